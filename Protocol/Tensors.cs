using System.Runtime.InteropServices;

namespace Huginn.Protocol;

/// <summary>float32 tensors on the wire: little-endian, densely packed.</summary>
public static class Tensors
{
    public static byte[] ToBytes(ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the wire format is little-endian");
        return MemoryMarshal.AsBytes(values).ToArray();
    }

    /// <summary>Writes the values' wire bytes into <paramref name="destination"/> without an intermediate array.</summary>
    public static void CopyTo(ReadOnlySpan<float> values, Span<byte> destination)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the wire format is little-endian");
        MemoryMarshal.AsBytes(values).CopyTo(destination);
    }

    public static float[] FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the wire format is little-endian");
        if (bytes.Length % 4 != 0) throw new ArgumentException("length is not a multiple of 4", nameof(bytes));
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }
}
