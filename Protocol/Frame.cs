using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Huginn.Protocol;

/// <summary>
/// One binary WebSocket message: a 4-byte little-endian header length, the UTF-8 JSON header, then the
/// payload (raw tensor bytes; never base64). Both sides refuse frames over their limit before parsing.
/// </summary>
public static class Frame
{
    public const int Version = 1;
    public const string SubProtocol = "huginn.v1";
    public const int MaxHeaderBytes = 64 * 1024;
    /// <summary>Default limit on a whole frame: a weight delta of up to 16M float32 parameters fits.</summary>
    public const int DefaultMaxFrameBytes = 64 * 1024 * 1024 + MaxHeaderBytes + 4;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Loss is NaN for inference and prep results: written as "NaN", never a failed frame.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static byte[] Encode(ProtocolMessage message, ReadOnlySpan<byte> payload = default)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(message, Json);
        if (header.Length > MaxHeaderBytes) throw new ArgumentException($"header of {header.Length} bytes exceeds {MaxHeaderBytes}", nameof(message));
        var frame = new byte[4 + header.Length + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, header.Length);
        header.CopyTo(frame, 4);
        payload.CopyTo(frame.AsSpan(4 + header.Length));
        return frame;
    }

    /// <summary>Parses a frame; on failure says why in words fit for an error message to the peer.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> frame, out ProtocolMessage? message, out ReadOnlyMemory<byte> payload, out string? error)
    {
        message = null;
        payload = default;
        error = null;
        if (frame.Length < 4)
        {
            error = "frame shorter than its 4-byte header length";
            return false;
        }
        var headerLength = BinaryPrimitives.ReadInt32LittleEndian(frame.Span);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || headerLength > frame.Length - 4)
        {
            error = $"header length {headerLength} is out of range";
            return false;
        }
        try
        {
            message = JsonSerializer.Deserialize<ProtocolMessage>(frame.Span.Slice(4, headerLength), Json);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            error = $"header is not a valid v{Version} message: {ex.Message}";
            return false;
        }
        if (message is null)
        {
            error = "header is empty";
            return false;
        }
        payload = frame[(4 + headerLength)..];
        return true;
    }
}
