using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using Huginn.Demo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Huginn.Benchmarks;

/// <summary>
/// The latency baseline of row 3, taken in the same process and the same windows as the gateway's figures:
/// a bare Kestrel WebSocket endpoint on loopback sends a 1 KiB binary message every 10 ms, stamped with the
/// Stopwatch at the moment of sending; the client notes when it has the whole message. No stream, no grain,
/// no JSON: what one socket hop costs on this machine at that moment, CPU contention included.
/// </summary>
public sealed class Row3Probe : IAsyncDisposable
{
    private const int MessageBytes = 1024;
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(10);

    private readonly WebApplication _app;
    private readonly ClientWebSocket _socket = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _receiving = Task.CompletedTask;

    /// <summary>(received at, one-way latency in ms) of every message so far.</summary>
    private readonly ConcurrentQueue<(long ReceivedAt, double Ms)> _samples = new();

    private Row3Probe(WebApplication app) => _app = app;

    public static async Task<Row3Probe> StartAsync()
    {
        var port = LocalPool.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/probe", async context =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await SendStampsAsync(socket, context.RequestAborted);
        });
        await app.StartAsync();
        var probe = new Row3Probe(app);
        await probe._socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/probe"), CancellationToken.None);
        probe._receiving = probe.ReceiveAsync();
        return probe;
    }

    private static async Task SendStampsAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var message = new byte[MessageBytes];
        using var timer = new PeriodicTimer(Period);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken) && socket.State == WebSocketState.Open)
            {
                // Stamped as it goes out: a late timer tick does not count as latency.
                BinaryPrimitives.WriteInt64LittleEndian(message, Stopwatch.GetTimestamp());
                await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The probe is being stopped.
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[MessageBytes * 2];
        try
        {
            while (true)
            {
                var filled = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await _socket.ReceiveAsync(buffer.AsMemory(filled), _stop.Token);
                    if (received.MessageType == WebSocketMessageType.Close) return;
                    filled += received.Count;
                }
                while (!received.EndOfMessage);
                var now = Stopwatch.GetTimestamp();
                var sent = BinaryPrimitives.ReadInt64LittleEndian(buffer);
                _samples.Enqueue((now, Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // Stopped.
        }
    }

    /// <summary>The one-way latencies of the messages received between two Stopwatch timestamps.</summary>
    public Row3Gateway.Percentiles Between(long start, long end) =>
        Row3Gateway.Percentiles.Of(_samples.Where(s => s.ReceivedAt >= start && s.ReceivedAt < end).Select(s => s.Ms).ToList());

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _receiving;
        _socket.Abort();
        _socket.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
