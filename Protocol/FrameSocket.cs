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
    public async Task<byte[]?> ReceiveAsync(CancellationToken cancellationToken)
    {
        MemoryStream? frame = null;
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(_receiveBuffer.AsMemory(), cancellationToken);
                if (received.MessageType == WebSocketMessageType.Close) return null;
                if (received.MessageType != WebSocketMessageType.Binary) throw new InvalidDataException("text frames are not part of the protocol; send binary frames");
                if ((frame?.Length ?? 0) + received.Count > maxFrameBytes) throw new FrameTooLargeException(maxFrameBytes);
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
}

public sealed class FrameTooLargeException(int limit) : Exception($"frame exceeds the limit of {limit} bytes")
{
    public int Limit { get; } = limit;
}
