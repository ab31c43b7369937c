using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Huginn.Demo;
using Huginn.Grains.Interfaces.Telemetry;
using Microsoft.Extensions.Configuration;

namespace Huginn.Tests.Deploy;

/// <summary>
/// The Orleans Dashboard on the Api (Huginn:Dashboard:Enabled): its page and its data from the cluster's grains for the
/// operator's key, as a bearer token or a browser's Basic credentials; nothing for anyone else; absent when off.
/// </summary>
[Trait("Category", "Edge")]
public sealed class OrleansDashboardTests
{
    private static readonly string OperatorKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    // The page, a script it loads, and a JSON call that reaches the dashboard's grains on the silo.
    public static TheoryData<string> Paths => ["dashboard/index.html", "dashboard/index.min.js", "dashboard/DashboardCounters"];

    [Fact]
    public async Task Only_the_operator_key_opens_the_dashboard()
    {
        await using var pool = await StartAsync(enabled: true);
        using var http = new HttpClient { BaseAddress = pool.ApiUrl };
        foreach (var path in Paths)
        {
            var anonymous = await SendAsync(http, path, null);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Contains("Basic", anonymous.Headers.WwwAuthenticate.ToString()); // so that a browser asks for the key

            var contributorLike = await SendAsync(http, path, new AuthenticationHeaderValue("Bearer", "not-the-operator-key"));
            Assert.Equal(HttpStatusCode.Forbidden, contributorLike.StatusCode);
            var wrongPassword = await SendAsync(http, path, Basic("operator", "not-the-operator-key"));
            Assert.Equal(HttpStatusCode.Forbidden, wrongPassword.StatusCode);

            var bearer = await SendAsync(http, path, new AuthenticationHeaderValue("Bearer", OperatorKey));
            Assert.True(bearer.StatusCode == HttpStatusCode.OK, $"{path} with the operator's bearer key: {(int)bearer.StatusCode}");
            Assert.NotEmpty(await bearer.Content.ReadAsByteArrayAsync());
            var browser = await SendAsync(http, path, Basic("anyone", OperatorKey));
            Assert.True(browser.StatusCode == HttpStatusCode.OK, $"{path} with the operator's key as Basic password: {(int)browser.StatusCode}");
        }
        var counters = await SendAsync(http, "dashboard/DashboardCounters", new AuthenticationHeaderValue("Bearer", OperatorKey));
        Assert.Equal("application/json", counters.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Without_the_setting_there_is_no_dashboard_even_for_the_operator()
    {
        await using var pool = await StartAsync(enabled: false);
        using var http = new HttpClient { BaseAddress = pool.ApiUrl };
        var response = await SendAsync(http, "dashboard/index.html", new AuthenticationHeaderValue("Bearer", OperatorKey));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static Task<LocalPool> StartAsync(bool enabled) => LocalPool.StartAsync(new ConfigurationBuilder().AddInMemoryCollection(
        new Dictionary<string, string?>
        {
            [OrleansDashboardSettings.EnabledKey] = enabled ? "true" : "false",
            ["Huginn:Api:OperatorKey"] = OperatorKey,
            // Four refusals per path: more than the default burst lets through before 429 over the whole test.
            ["Huginn:Api:FailedAuthBurst"] = "100",
        }).Build());

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, string path, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = authorization;
        return await http.SendAsync(request);
    }
}
