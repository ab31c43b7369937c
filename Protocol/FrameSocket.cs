using System.Net.WebSockets;

namespace Huginn.Protocol;

/// <summary>Reads and writes whole frames on a WebSocket, enforcing the frame size limit while reading.</summary>
public sealed class FrameSocket(WebSocket socket, int maxFrameBytes)
{
    /// <summary>Size of the receive buffer each socket keeps; longer frames are read in pieces of this size.</summary>
    public const int ReceiveBufferBytes = 16 * 1024;

    private readonly SemaphoreSlim _sendLock = new(1, 1);

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
                        // Observed later by nobody: keep its failure (the socket is closed under it) out of the unobserved-task log.
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
    /// Sends the close frame without waiting for the peer's (which a stalled peer never sends), after any frame being sent.
    /// Safe while a receive is outstanding. False when the socket could not say it any more.
    /// </summary>
    public async Task<bool> CloseOutputAsync(WebSocketCloseStatus status, string reason, TimeSpan timeout)
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
