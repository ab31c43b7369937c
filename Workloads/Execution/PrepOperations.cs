namespace Huginn.Workloads;

/// <summary>
/// The prep operations, shared by every runtime so that outputs match bit for bit: each is a single IEEE-754
/// float32 operation per value followed by an exact rounding.
/// </summary>
public static class PrepOperations
{
    /// <summary>The prepared bytes of a slice: its features, row-major, through the operation.</summary>
    public static byte[] Apply(PrepSpec prep, DataSlice slice)
    {
        ArgumentNullException.ThrowIfNull(prep);
        ArgumentNullException.ThrowIfNull(slice);
        if (prep.Operation != PrepSpec.QuantizeInt8)
            throw new NotSupportedException($"Unknown prep operation '{prep.Operation}'.");
        var features = slice.Features.AsSpan(0, slice.Count * slice.FeaturesPerSample);
        var bytes = new byte[features.Length];
        for (var i = 0; i < features.Length; i++)
        {
            bytes[i] = unchecked((byte)QuantizeInt8(features[i], prep.Scale));
        }
        return bytes;
    }

    /// <summary>
    /// clamp(round-half-to-even(x / scale), −127, 127), the division in float32. NaN maps to 0; infinities clamp.
    /// </summary>
    public static sbyte QuantizeInt8(float x, float scale)
    {
        var q = MathF.Round(x / scale, MidpointRounding.ToEven);
        if (float.IsNaN(q)) return 0;
        return (sbyte)Math.Clamp(q, -127f, 127f);
    }
}
