using System.Net;
using System.Net.WebSockets;
using System.Text;
using Huginn.Protocol;

namespace Huginn.Tests.Api.Hostile;

/// <summary>
/// Issue 12, finding 5: whatever a peer sends on the worker socket ends in an error frame or the documented close code
/// (PROTOCOL.md), never in an exception that resets the socket. The shared pool's hello timeout is 2 s, its frame limit 1 MiB.
/// </summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class HostileSocketTests(ApiPoolFixture fixture)
{
    [Fact]
    public async Task A_release_without_a_lease_id_gets_an_error_frame_and_the_socket_stays_up()
    {
        var (_, _, token) = await fixture.DeviceAsync("bare-release");
        using var socket = await fixture.ConnectRawAsync(token);
        var frames = await SocketProbe.HelloAsync(socket);

        await SocketProbe.SendHeaderAsync(socket, """{"type":"release"}""");

        var error = Assert.IsType<ErrorMessage>(await SocketProbe.NextAsync(frames));
        Assert.Equal("malformed_frame", error.Code);
        Assert.Contains("leaseId", error.Message);
        await frames.SendAsync(new HeartbeatMessage(null), CancellationToken.None);
        Assert.IsType<HeartbeatAckMessage>(await SocketProbe.NextAsync(frames));
    }

    [Theory]
    [InlineData("""{"type":"result","loss":0,"samples":1,"valueCount":1,"byteCount":0}""")]
    [InlineData("""{"type":"ack"}""")]
    [InlineData("""{"type":"release","leaseId":""}""")]
    public async Task A_message_without_its_lease_id_is_a_malformed_frame(string header)
    {
        var (_, _, token) = await fixture.DeviceAsync("no-lease-id");
        using var socket = await fixture.ConnectRawAsync(token);
        var frames = await SocketProbe.HelloAsync(socket);

        await SocketProbe.SendHeaderAsync(socket, header);

        Assert.Equal("malformed_frame", Assert.IsType<ErrorMessage>(await SocketProbe.NextAsync(frames)).Code);
    }

    [Fact]
    public async Task A_release_of_a_lease_this_socket_was_not_given_never_reaches_a_grain()
    {
        var (_, _, token) = await fixture.DeviceAsync("foreign-release");
        using var socket = await fixture.ConnectRawAsync(token);
        var frames = await SocketProbe.HelloAsync(socket);

        await frames.SendAsync(new ReleaseMessage("lease-of-someone-else"), CancellationToken.None);

        var error = Assert.IsType<ErrorMessage>(await SocketProbe.NextAsync(frames));
        Assert.Equal("not_leased", error.Code);
        Assert.Equal("lease-of-someone-else", error.LeaseId);
    }

    [Fact]
    public async Task A_text_frame_hello_is_closed_with_1003()
    {
        var (_, _, token) = await fixture.DeviceAsync("text-hello");
        using var socket = await fixture.ConnectRawAsync(token);

        await socket.SendAsync("""{"type":"hello","version":1}"""u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);

        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await SocketProbe.ClosedWithAsync(socket));
    }

    [Fact]
    public async Task A_first_frame_over_the_limit_is_closed_with_1009()
    {
        var (_, _, token) = await fixture.DeviceAsync("huge-hello");
        using var socket = await fixture.ConnectRawAsync(token);

        await socket.SendAsync(new byte[2 * 1024 * 1024], WebSocketMessageType.Binary, true, CancellationToken.None);

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await SocketProbe.ClosedWithAsync(socket));
    }

    [Fact]
    public async Task No_hello_is_closed_with_1008_not_reset()
    {
        var (_, _, token) = await fixture.DeviceAsync("mute");
        using var socket = await fixture.ConnectRawAsync(token);

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await SocketProbe.ClosedWithAsync(socket));
        Assert.Equal("no hello in time", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task A_browser_without_a_header_sends_its_token_in_the_hello()
    {
        var (_, deviceId, token) = await fixture.DeviceAsync("browser");
        using var socket = await fixture.ConnectRawAsync(null);
        var frames = new FrameSocket(socket, Frame.DefaultMaxFrameBytes);

        await frames.SendAsync(new HelloMessage(Frame.Version, null, "browser", token), CancellationToken.None);

        Assert.Equal(deviceId, Assert.IsType<WelcomeMessage>(await SocketProbe.NextAsync(frames)).DeviceId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("hd_not-a-real-token")]
    public async Task A_hello_without_a_valid_token_on_a_socket_without_a_header_is_closed_with_1008(string? token)
    {
        using var socket = await fixture.ConnectRawAsync(null);
        var frames = new FrameSocket(socket, Frame.DefaultMaxFrameBytes);

        await frames.SendAsync(new HelloMessage(Frame.Version, null, "browser", token), CancellationToken.None);

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, await SocketProbe.ClosedWithAsync(socket));
        Assert.StartsWith("unauthorized", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task A_token_in_the_url_is_refused_with_400_naming_token()
    {
        var (_, _, token) = await fixture.DeviceAsync("url-token");
        using var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };

        var response = await http.GetAsync($"v1/workers/connect?token={token}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"token\"", await response.Content.ReadAsStringAsync());
    }
}

/// <summary>Raw protocol moves for the hostile tests.</summary>
public static class SocketProbe
{
    public static async Task<FrameSocket> HelloAsync(WebSocket socket)
    {
        var frames = new FrameSocket(socket, Frame.DefaultMaxFrameBytes);
        await frames.SendAsync(new HelloMessage(Frame.Version, null, "hostile"), CancellationToken.None);
        Assert.IsType<WelcomeMessage>(await NextAsync(frames));
        return frames;
    }

    /// <summary>A frame with a hand-written header, for the messages the codec would never write.</summary>
    public static Task SendHeaderAsync(WebSocket socket, string header)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var frame = new byte[4 + json.Length];
        BitConverter.TryWriteBytes(frame, json.Length);
        json.CopyTo(frame, 4);
        return socket.SendAsync(frame, WebSocketMessageType.Binary, true, CancellationToken.None);
    }

    public static async Task<ProtocolMessage> NextAsync(FrameSocket frames)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var frame = await frames.ReceiveAsync(timeout.Token) ?? throw new InvalidOperationException("the server closed the socket");
        Assert.True(Frame.TryDecode(frame, out var message, out _, out var error), error);
        return message!;
    }

    /// <summary>
    /// The close code the server sent, skipping any frames before it. A reset (no close frame) fails here with a
    /// WebSocketException; a server that never closes fails on the timeout.
    /// </summary>
    public static async Task<WebSocketCloseStatus?> ClosedWithAsync(WebSocket socket, int withinSeconds = 10)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(withinSeconds));
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, timeout.Token);
                if (received.MessageType == WebSocketMessageType.Close) return socket.CloseStatus;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the server did not close the socket within {withinSeconds} s");
        }
    }
}
