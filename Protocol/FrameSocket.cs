using System.Net.WebSockets;

namespace Huginn.Protocol;

/// <summary>Reads and writes whole frames on a WebSocket, enforcing the frame size limit while reading.</summary>
public sealed class FrameSocket(WebSocket socket, int maxFrameBytes)
{
    /// <summary>Size of the receive buffer each socket keeps; longer frames are read in pieces of this size.</summary>
    public const int ReceiveBufferBytes = 16 * 1024;

    private readonly SemaphoreSlim _sendLock = new(1, 1);

    /// <summary>A receive given up on by a timeout: still outstanding, so no other receive may start.</summary>
    private Task<ValueWebSocketReceiveResult>? _abandonedReceive;

    // One buffer per socket, reused for every frame (a WebSocket has one receive outstanding at most). A new
    // 64 KiB buffer per frame was most of what the gateway allocated, and the buffers held by idle receives
    // lived long enough to be collected in gen2 (docs/BENCHMARKS.md, row 3).
    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferBytes];

    public WebSocket Socket => socket;

    /// <summary>The next binary frame; null when the peer closed. Throws <see cref="FrameTooLargeException"/> past the limit.</summary>
    public Task<byte[]?> ReceiveAsync(CancellationToken cancellationToken) =>
        ReceiveAsync(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// The next binary frame; null when the peer closed. Throws <see cref="FrameTooLargeException"/> past the limit, and
    /// <see cref="FrameTimeoutException"/> when no frame begins within <paramref name="idleTimeout"/> or a begun frame does
    /// not end within <paramref name="frameTimeout"/> (a peer stalled mid-frame, or dripping it a byte at a time).
    /// A timeout leaves the socket's receive outstanding (cancelling it would abort the socket, and the peer would see a
    /// reset instead of a close code): the caller closes the output with a close frame and receives no more.
    /// </summary>
    public async Task<byte[]?> ReceiveAsync(TimeSpan idleTimeout, TimeSpan frameTimeout, CancellationToken cancellationToken)
    {
        MemoryStream? frame = null;
        var frameDeadline = DateTime.MaxValue;
        try
        {
            while (true)
            {
                var pending = socket.ReceiveAsync(_receiveBuffer.AsMemory(), cancellationToken);
                ValueWebSocketReceiveResult received;
                if (pending.IsCompleted || (frame is null ? idleTimeout : frameTimeout) == Timeout.InfiniteTimeSpan)
                {
                    received = await pending;
                }
                else
                {
                    var timeout = frame is null ? idleTimeout : frameDeadline - DateTime.UtcNow;
                    var task = pending.AsTask();
                    try
                    {
                        received = await task.WaitAsync(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero, cancellationToken);
                    }
                    catch (TimeoutException)
                    {
                        // Left outstanding (see above); CloseOutputAsync waits on it for the peer's close.
                        _abandonedReceive = task;
                        _ = task.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
                        throw new FrameTimeoutException(frame is null);
                    }
                }
                if (received.MessageType == WebSocketMessageType.Close) return null;
                if (received.MessageType != WebSocketMessageType.Binary) throw new InvalidDataException("text frames are not part of the protocol; send binary frames");
                if ((frame?.Length ?? 0) + received.Count > maxFrameBytes) throw new FrameTooLargeException(maxFrameBytes);
                if (frame is null && frameTimeout != Timeout.InfiniteTimeSpan) frameDeadline = DateTime.UtcNow + frameTimeout;
                // Most frames arrive in one piece: copied out once, no stream.
                if (frame is null && received.EndOfMessage) return _receiveBuffer.AsSpan(0, received.Count).ToArray();
                frame ??= new MemoryStream();
                frame.Write(_receiveBuffer, 0, received.Count);
                if (received.EndOfMessage) return frame.ToArray();
            }
        }
        finally
        {
            frame?.Dispose();
        }
    }

    public async Task SendAsync(ProtocolMessage message, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var frame = Frame.Encode(message, payload.Span);
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await socket.SendAsync(frame, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public Task SendAsync(ProtocolMessage message, CancellationToken cancellationToken) => SendAsync(message, default, cancellationToken);

    /// <summary>
    /// Sends the close frame (after any frame being sent) and gives the peer up to <paramref name="timeout"/> to read it:
    /// after a receive timed out, what the peer still sends is read and dropped until its close arrives or the time is up.
    /// Without that, the connection ending with unread bytes is a TCP reset, which can destroy the close frame before the
    /// peer reads it. Never waits for a close that a stalled peer will not send. False when the socket could not say it.
    /// </summary>
    /// <param name="drain">False when another caller may be receiving on this socket (then that caller reads the close).</param>
    public async Task<bool> CloseOutputAsync(WebSocketCloseStatus status, string reason, TimeSpan timeout, bool drain = true)
    {
        var sent = await SendCloseAsync(status, reason, timeout);
        if (sent && drain) await DrainUntilClosedAsync(timeout);
        return sent;
    }

    private async Task DrainUntilClosedAsync(TimeSpan linger)
    {
        var deadline = DateTime.UtcNow + linger;
        try
        {
            var received = _abandonedReceive is { } outstanding
                ? await outstanding.WaitAsync(linger)
                : await socket.ReceiveAsync(_receiveBuffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(linger);
            while (received.MessageType != WebSocketMessageType.Close && DateTime.UtcNow < deadline)
                received = await socket.ReceiveAsync(_receiveBuffer.AsMemory(), CancellationToken.None).AsTask().WaitAsync(deadline - DateTime.UtcNow);
        }
        catch (Exception ex) when (ex is TimeoutException or WebSocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer stays silent or is gone (or closed already): it had its chance to read the close frame.
        }
    }

    private async Task<bool> SendCloseAsync(WebSocketCloseStatus status, string reason, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _sendLock.WaitAsync(cancel.Token);
            try
            {
                if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return false;
                await socket.CloseOutputAsync(status, reason, cancel.Token);
                return true;
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }
}

/// <summary>No frame began in time (<see cref="Idle"/>), or a begun frame did not end in time.</summary>
public sealed class FrameTimeoutException(bool idle)
    : Exception(idle ? "no frame arrived in time" : "a frame was begun and not finished in time")
{
    public bool Idle { get; } = idle;
}

public sealed class FrameTooLargeException(int limit) : Exception($"frame exceeds the limit of {limit} bytes")
{
    public int Limit { get; } = limit;
}
