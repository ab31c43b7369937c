namespace Huginn.Workloads;

/// <summary>How far apart two devices' results are; the verification rule (Grains/Rules/Verification.cs) applies its tolerance to this.</summary>
public static class TensorComparison
{
    /// <summary>
    /// ||a − b|| / max(||a||, ||b||), accumulated in double. Symmetric, 0 for two zero vectors, 1 when exactly one
    /// is zero, and +Infinity when the lengths differ or any value is NaN or infinite (such a result is never
    /// accepted).
    /// </summary>
    public static double RelativeL2(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double difference = 0, normA = 0, normB = 0;
        for (var i = 0; i < a.Length; i++)
        {
            double x = a[i], y = b[i];
            if (!double.IsFinite(x) || !double.IsFinite(y)) return double.PositiveInfinity;
            difference += (x - y) * (x - y);
            normA += x * x;
            normB += y * y;
        }
        if (difference == 0) return 0;
        return Math.Sqrt(difference) / Math.Sqrt(Math.Max(normA, normB));
    }

    /// <summary>Whether <see cref="RelativeL2"/> is at most <paramref name="tolerance"/> (0: identical values).</summary>
    public static bool WithinTolerance(ReadOnlySpan<float> a, ReadOnlySpan<float> b, double tolerance) =>
        RelativeL2(a, b) <= tolerance;
}
