namespace Huginn.Workloads;

/// <summary>
/// Elementary functions built only from IEEE-754 +, -, *, / and sqrt, so they return the same bits on every
/// machine (and can be ported bit-for-bit to JavaScript). <see cref="Math.Log"/> and friends come from the
/// platform's C library and may differ in the last bit, which would break digest-compared synthetic data.
/// Accurate to a few ulps; not a replacement for <see cref="Math"/> where reproducibility does not matter.
/// </summary>
public static class DeterministicMath
{
    // ln 2 split so that k * Ln2Hi is exact for |k| < 2^11.
    private const double Ln2Hi = 6.93147180369123816490e-01;
    private const double Ln2Lo = 1.90821492927058770002e-10;
    private const double Sqrt2 = 1.4142135623730951;

    /// <summary>Natural logarithm: NaN below 0, -Infinity at 0.</summary>
    public static double Log(double x)
    {
        if (double.IsNaN(x) || x < 0) return double.NaN;
        if (x == 0) return double.NegativeInfinity;
        if (double.IsPositiveInfinity(x)) return x;

        var bits = BitConverter.DoubleToInt64Bits(x);
        var exponent = (int)((bits >> 52) & 0x7FF);
        if (exponent == 0)
        {
            // Subnormal: scale into the normal range first (exact).
            x *= 18014398509481984.0; // 2^54
            bits = BitConverter.DoubleToInt64Bits(x);
            exponent = (int)((bits >> 52) & 0x7FF) - 54;
        }
        exponent -= 1023;
        var m = BitConverter.Int64BitsToDouble((bits & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        if (m > Sqrt2)
        {
            m *= 0.5;
            exponent++;
        }

        // ln m = 2 atanh(t) with |t| <= 0.1716; the series to t^23 is below 1e-20 short.
        var t = (m - 1) / (m + 1);
        var t2 = t * t;
        var p = 1.0 / 23;
        for (var k = 21; k >= 1; k -= 2)
        {
            p = p * t2 + 1.0 / k;
        }
        var lnM = 2 * t * p;
        return exponent * Ln2Hi + (exponent * Ln2Lo + lnM);
    }

    /// <summary>e^x.</summary>
    public static double Exp(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x > 709.782712893384) return double.PositiveInfinity;
        if (x < -745.1332191019412) return 0;

        var k = Math.Round(x / (Ln2Hi + Ln2Lo));
        var r = x - k * Ln2Hi - k * Ln2Lo;
        // |r| <= 0.347: Taylor to r^16 leaves under 1e-19.
        var p = 1.0;
        for (var n = 16; n >= 1; n--)
        {
            p = 1 + p * r / n;
        }
        return Math.ScaleB(p, (int)k);
    }

    /// <summary>Hyperbolic tangent.</summary>
    public static double Tanh(double x)
    {
        if (double.IsNaN(x)) return x;
        var a = Math.Abs(x);
        if (a > 22) return Math.Sign(x);
        var e = Exp(-2 * a);
        var t = (1 - e) / (1 + e);
        return x < 0 ? -t : t;
    }
}
