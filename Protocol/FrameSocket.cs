using System.Net.WebSockets;

namespace Huginn.Protocol;

/// <summary>Reads and writes whole frames on a WebSocket, enforcing the frame size limit while reading.</summary>
public sealed class FrameSocket(WebSocket socket, int maxFrameBytes)
{
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    public WebSocket Socket => socket;

    /// <summary>The next binary frame; null when the peer closed. Throws <see cref="FrameTooLargeException"/> past the limit.</summary>
    public async Task<byte[]?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var frame = new MemoryStream();
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, cancellationToken);
            if (received.MessageType == WebSocketMessageType.Close) return null;
            if (received.MessageType != WebSocketMessageType.Binary) throw new InvalidDataException("text frames are not part of the protocol; send binary frames");
            if (frame.Length + received.Count > maxFrameBytes) throw new FrameTooLargeException(maxFrameBytes);
            frame.Write(buffer, 0, received.Count);
            if (received.EndOfMessage) return frame.ToArray();
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
