using System.Buffers.Binary;

namespace Huginn.Workloads;

/// <summary>
/// Reads samples [offset, offset + count) of a stored dataset into a <see cref="DataSlice"/>, from bytes that begin at
/// byte <c>startByte</c> of the dataset: the whole dataset (a blob), or only the chunks that cover the slice.
/// A sample without stored targets (f32-features, or tokens read for inference) gets targets of 0: inference and
/// prep never read them, and the slice keeps the shape every executor expects.
/// </summary>
public static class DatasetReader
{
    public static DataSlice Read(DatasetLayout layout, ReadOnlySpan<byte> bytes, long startByte, long offset, int count)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var (start, end) = layout.ByteRange(offset, count);
        if (start < startByte || end > startByte + bytes.Length)
            throw new ArgumentOutOfRangeException(nameof(count),
                $"Samples [{offset}, {offset + count}) need bytes [{start}, {end}) of the dataset, as {layout.Describe()}; " +
                $"the data at hand covers bytes [{startByte}, {startByte + bytes.Length}).");
        var data = bytes[checked((int)(start - startByte))..checked((int)(end - startByte))];

        var features = new float[checked(count * layout.FeaturesPerSample)];
        var targets = new float[checked(count * layout.TargetsPerSample)];
        if (layout.IsTokens) ReadTokens(layout, data, count, features, targets);
        else ReadRows(layout, data, count, features, targets);
        return new DataSlice(features, targets, count, layout.FeaturesPerSample, layout.TargetsPerSample);
    }

    private static void ReadRows(DatasetLayout layout, ReadOnlySpan<byte> data, int count, float[] features, float[] targets)
    {
        var storedTargets = layout.Format == DatasetFormats.F32 ? layout.TargetsPerSample : 0;
        var position = 0;
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < layout.FeaturesPerSample; j++, position += sizeof(float))
                features[i * layout.FeaturesPerSample + j] = BinaryPrimitives.ReadSingleLittleEndian(data[position..]);
            for (var j = 0; j < storedTargets; j++, position += sizeof(float))
                targets[i * layout.TargetsPerSample + j] = BinaryPrimitives.ReadSingleLittleEndian(data[position..]);
        }
    }

    /// <summary>Token ids as floats (exact below 2^24, the transformer's vocabulary cap); the target is the next token, a class index.</summary>
    private static void ReadTokens(DatasetLayout layout, ReadOnlySpan<byte> data, int count, float[] features, float[] targets)
    {
        var s = layout.SequenceLength;
        var width = layout.ValueBytes;
        float Token(ReadOnlySpan<byte> d, long index) => width == 2
            ? BinaryPrimitives.ReadUInt16LittleEndian(d[(int)(index * 2)..])
            : BinaryPrimitives.ReadUInt32LittleEndian(d[(int)(index * 4)..]);
        for (var i = 0; i < count; i++)
        {
            for (var p = 0; p < s; p++) features[i * s + p] = Token(data, (long)i * s + p);
            if (layout.ReadsTargets) targets[i * layout.TargetsPerSample] = Token(data, (long)(i + 1) * s);
        }
    }
}
