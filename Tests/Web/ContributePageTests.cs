using System.Net;
using System.Net.Http.Headers;
using Huginn.Api.Hosting;
using Huginn.Demo;
using Huginn.Protocol;
using Microsoft.Extensions.Configuration;

namespace Huginn.Tests.Web;

/// <summary>The Api's side of the contributor page: the bundle with its headers, the 503 without one, GET /v1/devices/me.</summary>
[Trait("Category", "Edge")]
public sealed class ContributePageTests
{
    private static Task<LocalPool> PoolAsync(string webRoot, bool testFaults = false) =>
        LocalPool.StartAsync(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Api:WebRoot"] = webRoot,
            ["Huginn:Api:TestFaults"] = testFaults ? "true" : "false",
        }).Build());

    [Fact]
    public async Task The_bundle_is_served_under_its_content_security_policy_and_the_folder_needs_its_slash()
    {
        var bundle = Directory.CreateTempSubdirectory("huginn-web-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(bundle, "index.html"), "<!doctype html><title>page</title>");
            await File.WriteAllBytesAsync(Path.Combine(bundle, "backend.wasm"), [0, 0x61, 0x73, 0x6d]);
            await using var pool = await PoolAsync(bundle);
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = pool.ApiUrl };

            var redirect = await http.GetAsync("contribute?backend=wasm");
            Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
            Assert.Equal("/contribute/?backend=wasm", redirect.Headers.Location!.OriginalString);

            var page = await http.GetAsync("contribute/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("<title>page</title>", await page.Content.ReadAsStringAsync());
            Assert.Equal(ContributePage.ContentSecurityPolicy, page.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Contains("'wasm-unsafe-eval'", ContributePage.ContentSecurityPolicy);
            Assert.Contains("worker-src 'self'", ContributePage.ContentSecurityPolicy);
            Assert.DoesNotContain("unsafe-inline", ContributePage.ContentSecurityPolicy);
            Assert.DoesNotContain("'unsafe-eval'", ContributePage.ContentSecurityPolicy);
            Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());

            var wasm = await http.GetAsync("contribute/backend.wasm");
            Assert.Equal("application/wasm", wasm.Content.Headers.ContentType!.MediaType);

            Assert.Equal("{\"testFaults\":false}", await http.GetStringAsync("contribute/settings.json"));
            // The Api's own endpoints carry no page policy.
            Assert.False((await http.GetAsync("healthz")).Headers.Contains("Content-Security-Policy"));
        }
        finally
        {
            Directory.Delete(bundle, recursive: true);
        }
    }

    [Fact]
    public async Task Without_a_bundle_the_page_answers_503_naming_the_build_command()
    {
        await using var pool = await PoolAsync(Path.Combine(Path.GetTempPath(), $"huginn-no-bundle-{Guid.NewGuid():N}"), testFaults: true);
        using var http = new HttpClient { BaseAddress = pool.ApiUrl };

        var page = await http.GetAsync("contribute/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
        Assert.Contains("npm run build", await page.Content.ReadAsStringAsync());
        Assert.Equal("{\"testFaults\":true}", await http.GetStringAsync("contribute/settings.json"));
    }

    [Fact]
    public async Task A_device_reads_its_own_standing_with_its_token_and_an_account_key_is_refused()
    {
        await using var pool = await PoolAsync(Path.GetTempPath());
        using var anonymous = new PoolClient(pool.ApiUrl);
        var account = await anonymous.CreateAccountAsync("tab", "contributor");
        using var owner = anonymous.As(account.ApiKey);
        var device = await owner.RegisterDeviceAsync("tab", new DeviceCapabilitiesDto("browser", null, null, 5, 4, 512, ["js", "tfjs-wasm"], 1));
        using var http = new HttpClient { BaseAddress = pool.ApiUrl };

        using var asDevice = new HttpRequestMessage(HttpMethod.Get, "v1/devices/me");
        asDevice.Headers.Authorization = new AuthenticationHeaderValue("Bearer", device.DeviceToken);
        var mine = await http.SendAsync(asDevice);
        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await mine.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(device.DeviceId, body.GetProperty("device").GetProperty("deviceId").GetString());
        Assert.Equal("browser", body.GetProperty("device").GetProperty("capabilities").GetProperty("kind").GetString());
        Assert.Equal(0m, body.GetProperty("account").GetProperty("balanceHu").GetDecimal());

        using var asAccount = new HttpRequestMessage(HttpMethod.Get, "v1/devices/me");
        asAccount.Headers.Authorization = new AuthenticationHeaderValue("Bearer", account.ApiKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(asAccount)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("v1/devices/me")).StatusCode);
    }
}
