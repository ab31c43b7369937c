using System.Buffers.Binary;

namespace Huginn.Workloads;

/// <summary>
/// How a flat weight vector travels as a blob (initial or trained weights): little-endian float32 values in
/// <see cref="IModelDefinition.Layout"/> order, no header.
/// </summary>
public static class WeightsFormat
{
    public static byte[] ToBytes(ReadOnlySpan<float> weights)
    {
        var bytes = new byte[checked(weights.Length * sizeof(float))];
        for (var i = 0; i < weights.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), weights[i]);
        }
        return bytes;
    }

    public static float[] FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length % sizeof(float) != 0)
            throw new ArgumentException($"A weights blob holds whole float32 values; {bytes.Length} bytes is not a multiple of 4.", nameof(bytes));
        var weights = new float[bytes.Length / sizeof(float)];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
        }
        return weights;
    }
}
