using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Huginn.Api.Apis;
using Huginn.Demo;
using Huginn.Protocol;
using Microsoft.Extensions.Configuration;

namespace Huginn.Tests.Api.Hostile;

/// <summary>A pool of its own with small limits and timeouts, so that the tests of them stay short.</summary>
public sealed class LimitedPoolFixture : IAsyncLifetime
{
    public const int IdleSeconds = 2, FrameSeconds = 1, MaxDevices = 3, MaxSockets = 2, BlobBytes = 1000;

    public LocalPool Pool { get; private set; } = null!;

    public async Task InitializeAsync() => Pool = await LocalPool.StartAsync(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Huginn:Api:HelloTimeout"] = "00:00:02",
        ["Huginn:Api:WorkerIdleTimeout"] = $"00:00:0{IdleSeconds}",
        ["Huginn:Api:FrameReadTimeout"] = $"00:00:0{FrameSeconds}",
        ["Huginn:Api:MaxDevicesPerOwner"] = MaxDevices.ToString(),
        ["Huginn:Api:MaxSocketsPerOwner"] = MaxSockets.ToString(),
        ["Huginn:Api:BlobBytesPerAccount"] = BlobBytes.ToString(),
    }).Build());

    public async Task DisposeAsync() => await Pool.DisposeAsync();

    public static readonly DeviceCapabilitiesDto Cpu = new("cpu", null, null, Gflops: 10, CpuCores: 2, MemoryMb: 4096, Runtimes: ["torch"], Slots: 1);

    public HttpClient Http(string? key = null)
    {
        var http = new HttpClient { BaseAddress = Pool.ApiUrl };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    public async Task<string> AccountAsync(string role)
    {
        using var http = Http();
        var created = await (await http.PostAsJsonAsync("v1/accounts", new { name = role, role })).Content.ReadFromJsonAsync<CreateAccountResponse>(Frame.Json);
        return created!.ApiKey;
    }

    public async Task<HttpResponseMessage> RegisterAsync(string key, string name)
    {
        using var http = Http(key);
        return await http.PostAsync("v1/devices", JsonContent.Create(new RegisterDeviceRequest(name, Cpu), options: Frame.Json));
    }

    public async Task<string> DeviceTokenAsync(string key, string name)
    {
        var response = await RegisterAsync(key, name);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<RegisterDeviceResponse>(Frame.Json))!.DeviceToken;
    }

    public async Task<ClientWebSocket> ConnectAsync(string token)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        socket.Options.AddSubProtocol(Frame.SubProtocol);
        await socket.ConnectAsync(new UriBuilder(new Uri(Pool.ApiUrl, "v1/workers/connect")) { Scheme = "ws" }.Uri, CancellationToken.None);
        return socket;
    }
}

/// <summary>Issue 12, findings 6 and 12: stalled sockets close; devices, sockets and blob bytes per owner are bounded.</summary>
[Trait("Category", "Edge")]
public sealed class HostileLimitsTests(LimitedPoolFixture fixture) : IClassFixture<LimitedPoolFixture>
{
    [Fact]
    public async Task A_silent_socket_is_closed_after_the_idle_timeout()
    {
        var token = await fixture.DeviceTokenAsync(await fixture.AccountAsync("contributor"), "silent");
        using var socket = await fixture.ConnectAsync(token);
        await SocketProbe.HelloAsync(socket);

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await SocketProbe.ClosedWithAsync(socket, LimitedPoolFixture.IdleSeconds + 8));
        Assert.StartsWith("idle", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task A_socket_stalled_mid_frame_is_closed_after_the_frame_timeout()
    {
        var token = await fixture.DeviceTokenAsync(await fixture.AccountAsync("contributor"), "stalled");
        using var socket = await fixture.ConnectAsync(token);
        await SocketProbe.HelloAsync(socket);

        await socket.SendAsync(new byte[] { 20, 0, 0, 0, (byte)'{' }, WebSocketMessageType.Binary, endOfMessage: false, CancellationToken.None);

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await SocketProbe.ClosedWithAsync(socket, LimitedPoolFixture.FrameSeconds + 8));
        Assert.Contains("not finished", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task A_socket_dripping_a_frame_byte_by_byte_is_closed_after_the_frame_timeout()
    {
        var token = await fixture.DeviceTokenAsync(await fixture.AccountAsync("contributor"), "dripper");
        using var socket = await fixture.ConnectAsync(token);
        await SocketProbe.HelloAsync(socket);
        using var stop = new CancellationTokenSource();

        // One byte every 200 ms: never silent for long, never finishing its frame.
        var drip = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && socket.State == WebSocketState.Open)
            {
                try
                {
                    await socket.SendAsync(new byte[] { 1 }, WebSocketMessageType.Binary, endOfMessage: false, stop.Token);
                    await Task.Delay(200, stop.Token);
                }
                catch (Exception ex) when (ex is WebSocketException or OperationCanceledException) { return; }
            }
        });

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await SocketProbe.ClosedWithAsync(socket, LimitedPoolFixture.FrameSeconds + 8));
        Assert.Contains("not finished", socket.CloseStatusDescription);
        await stop.CancelAsync();
        await drip;
    }

    [Fact]
    public async Task An_owner_cannot_register_more_devices_than_its_limit()
    {
        var key = await fixture.AccountAsync("contributor");
        for (var i = 0; i < LimitedPoolFixture.MaxDevices; i++) (await fixture.RegisterAsync(key, $"d{i}")).EnsureSuccessStatusCode();

        var refused = await fixture.RegisterAsync(key, "one-too-many");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var body = await refused.Content.ReadAsStringAsync();
        Assert.Contains("quota exceeded", body);
        Assert.Contains("Huginn:Api:MaxDevicesPerOwner", body);
    }

    [Fact]
    public async Task An_owner_cannot_hold_more_sockets_than_its_limit_and_gets_its_place_back_when_one_closes()
    {
        var key = await fixture.AccountAsync("contributor");
        var tokens = new List<string>();
        for (var i = 0; i <= LimitedPoolFixture.MaxSockets; i++) tokens.Add(await fixture.DeviceTokenAsync(key, $"s{i}"));
        var open = new List<ClientWebSocket>();
        for (var i = 0; i < LimitedPoolFixture.MaxSockets; i++)
        {
            open.Add(await fixture.ConnectAsync(tokens[i]));
            await SocketProbe.HelloAsync(open[^1]);
        }

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => fixture.ConnectAsync(tokens[^1]));
        Assert.Contains("429", refused.Message);

        await open[0].CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        using var admitted = await Pool.Eventually.UntilAsync(async () =>
        {
            try { return await fixture.ConnectAsync(tokens[^1]); }
            catch (WebSocketException) { return null; }
        }, s => s is not null, "a socket place coming back after a socket of the owner closed");
        foreach (var socket in open) socket.Dispose();
    }

    [Fact]
    public async Task Uploads_beyond_the_accounts_blob_quota_are_refused_naming_the_quota()
    {
        using var http = fixture.Http(await fixture.AccountAsync("client"));
        var first = new ByteArrayContent(Enumerable.Repeat((byte)1, 600).ToArray());
        first.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("v1/blobs", first)).StatusCode);

        var second = new ByteArrayContent(Enumerable.Repeat((byte)2, 600).ToArray());
        second.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var refused = await http.PostAsync("v1/blobs", second);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Huginn:Api:BlobBytesPerAccount", await refused.Content.ReadAsStringAsync());
    }
}
