using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Huginn.Api.Apis;
using Huginn.Api.Hosting;
using Huginn.Demo;
using Huginn.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Huginn.Tests.Api.Hostile;

/// <summary>Issue 12, findings 7 and 10: guessing secrets is throttled per address, the operator key is strong, no token is logged.</summary>
[Trait("Category", "Edge")]
public sealed class HostileAuthTests
{
    /// <summary>32 random bytes, as OPERATIONS.md tells an operator to make one.</summary>
    public static readonly string StrongOperatorKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static IConfiguration Settings(params (string Key, string Value)[] settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build();

    private static HttpClient Http(LocalPool pool, string? key)
    {
        var http = new HttpClient { BaseAddress = pool.ApiUrl };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    [Fact]
    public async Task A_different_random_key_per_request_is_throttled_per_address_with_429_and_retry_after()
    {
        await using var pool = await LocalPool.StartAsync(Settings(("Huginn:Api:FailedAuthBurst", "5"), ("Huginn:Api:FailedAuthPerMinute", "1")));

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 12; i++)
        {
            using var http = Http(pool, $"hk_{Convert.ToHexString(RandomNumberGenerator.GetBytes(16))}");
            last = await http.GetAsync("v1/accounts/me");
            statuses.Add(last.StatusCode);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), statuses.Take(5));
        Assert.All(statuses.Skip(5), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        Assert.Equal(TimeSpan.FromSeconds(60), last!.Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task Wrong_operator_keys_are_throttled_per_address()
    {
        await using var pool = await LocalPool.StartAsync(Settings(("Huginn:Api:FailedAuthBurst", "3"), ("Huginn:Api:FailedAuthPerMinute", "1"),
            ("Huginn:Api:RegistrationRequiresOperator", "true"), ("Huginn:Api:OperatorKey", StrongOperatorKey)));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var http = Http(pool, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            statuses.Add((await http.PostAsJsonAsync("v1/accounts", new { name = "x", role = "client" })).StatusCode);
            statuses.Add((await http.PostAsJsonAsync("v1/accounts/acct_x/credits", new { hu = 1 })).StatusCode);
        }

        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden], statuses.Take(3));
        Assert.All(statuses.Skip(3), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
    }

    [Theory]
    [InlineData("operator-secret-for-tests")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("0123456789abcdef0123456789abcdef")]
    public async Task A_weak_operator_key_stops_the_api_at_start_up_with_a_clear_error(string weak)
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => LocalPool.StartAsync(Settings(("Huginn:Api:OperatorKey", weak))));

        Assert.Contains("Huginn:Api:OperatorKey", failure.Message);
        Assert.Contains("32 random bytes", failure.Message);
    }

    [Fact]
    public void Operator_keys_of_32_random_bytes_pass_in_base64_and_hex()
    {
        Assert.Null(ApiOptionsValidator.OperatorKeyWeakness(StrongOperatorKey));
        Assert.Null(ApiOptionsValidator.OperatorKeyWeakness(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))));
    }

    [Fact]
    public async Task A_device_token_sent_in_the_url_appears_in_no_log_line()
    {
        var logs = new CapturedLogs();
        await using var pool = await LocalPool.StartAsync(configureLogging: logging =>
        {
            logging.SetMinimumLevel(LogLevel.Information);
            logging.AddProvider(logs);
        });
        using var anonymous = new PoolClient(pool.ApiUrl);
        var owner = anonymous.As((await anonymous.CreateAccountAsync("leaky", "contributor")).ApiKey);
        var token = (await owner.RegisterDeviceAsync("leaky", LimitedPoolFixture.Cpu)).DeviceToken;
        using var http = Http(pool, null);

        var response = await http.GetAsync($"v1/workers/connect?token={token}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotEmpty(logs.Lines);
        Assert.DoesNotContain(logs.Lines, l => l.Text.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_rotated_api_key_stops_working_and_its_successor_works()
    {
        await using var pool = await LocalPool.StartAsync();
        using var anonymous = Http(pool, null);
        var created = await (await anonymous.PostAsJsonAsync("v1/accounts", new { name = "rotor", role = "client" })).Content.ReadFromJsonAsync<CreateAccountResponse>(Frame.Json);
        using var old = Http(pool, created!.ApiKey);

        var rotated = await (await old.PostAsync("v1/accounts/me/keys/rotate", null)).Content.ReadFromJsonAsync<CreateAccountResponse>(Frame.Json);

        Assert.Equal(created.AccountId, rotated!.AccountId);
        Assert.Equal(HttpStatusCode.Unauthorized, (await old.GetAsync("v1/accounts/me")).StatusCode);
        using var fresh = Http(pool, rotated.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await fresh.GetAsync("v1/accounts/me")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await fresh.DeleteAsync("v1/accounts/me/keys/current")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fresh.GetAsync("v1/accounts/me")).StatusCode);
    }

    [Fact]
    public async Task A_revoked_device_token_cannot_connect_and_a_rotated_one_replaces_it()
    {
        await using var pool = await LocalPool.StartAsync();
        using var anonymous = new PoolClient(pool.ApiUrl);
        var ownerKey = (await anonymous.CreateAccountAsync("rotor", "contributor")).ApiKey;
        var device = await anonymous.As(ownerKey).RegisterDeviceAsync("rotor", LimitedPoolFixture.Cpu);
        using var owner = Http(pool, ownerKey);
        using var stranger = Http(pool, (await anonymous.CreateAccountAsync("stranger", "contributor")).ApiKey);

        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.PostAsync($"v1/devices/{device.DeviceId}/token", null)).StatusCode);
        var rotated = await (await owner.PostAsync($"v1/devices/{device.DeviceId}/token", null)).Content.ReadFromJsonAsync<RegisterDeviceResponse>(Frame.Json);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWithTokenAsync(pool, device.DeviceToken));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusWithTokenAsync(pool, rotated!.DeviceToken)); // known, but a device token: no account endpoints

        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"v1/devices/{device.DeviceId}/token")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusWithTokenAsync(pool, rotated.DeviceToken));
    }

    [Fact]
    public async Task Revoking_a_device_token_closes_the_connection_it_opened()
    {
        await using var pool = await LocalPool.StartAsync();
        using var anonymous = new PoolClient(pool.ApiUrl);
        var ownerKey = (await anonymous.CreateAccountAsync("revoker", "contributor")).ApiKey;
        var device = await anonymous.As(ownerKey).RegisterDeviceAsync("revoked", LimitedPoolFixture.Cpu);
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {device.DeviceToken}");
        await socket.ConnectAsync(new UriBuilder(new Uri(pool.ApiUrl, "v1/workers/connect")) { Scheme = "ws" }.Uri, CancellationToken.None);
        await SocketProbe.HelloAsync(socket);
        using var owner = Http(pool, ownerKey);

        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"v1/devices/{device.DeviceId}/token")).StatusCode);

        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, await SocketProbe.ClosedWithAsync(socket));
        Assert.Equal("device token revoked", socket.CloseStatusDescription);
    }

    private static async Task<HttpStatusCode> StatusWithTokenAsync(LocalPool pool, string token)
    {
        using var http = Http(pool, token);
        return (await http.GetAsync("v1/accounts/me")).StatusCode;
    }
}
