namespace Huginn.Workloads;

/// <summary>
/// xoshiro256** seeded through SplitMix64: the same seed gives the same stream on every machine and runtime,
/// which <see cref="Random"/> does not promise. Not for security.
/// </summary>
public sealed class DeterministicRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public DeterministicRandom(ulong seed)
    {
        // The SplitMix64 sequence from the seed; wrapping arithmetic is intended.
        unchecked
        {
            _s0 = Mix(seed + Golden);
            _s1 = Mix(seed + 2 * Golden);
            _s2 = Mix(seed + 3 * Golden);
            _s3 = Mix(seed + 4 * Golden);
        }
        // xoshiro never leaves the all-zero state; SplitMix outputs make it practically unreachable, but be sure.
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = Golden;
    }

    /// <summary>A seed for an independent stream, e.g. <c>Derive(jobSeed, round, shard)</c>; order of parts matters.</summary>
    public static ulong Derive(ulong seed, params long[] parts)
    {
        var h = Mix(seed ^ Golden);
        foreach (var part in parts)
        {
            h = Mix((h + Golden) ^ Mix((ulong)part + Golden));
        }
        return h;
    }

    public ulong NextULong()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextULong() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform in [0, n) by multiply-shift; the bias (below n/2^64) does not matter here.</summary>
    public int NextInt(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        return (int)Math.BigMul(NextULong(), (ulong)n, out _);
    }

    /// <summary>
    /// Standard normal by the polar (Marsaglia) form of Box-Muller, one value per call. It uses
    /// <see cref="DeterministicMath.Log"/> rather than <see cref="Math.Log"/> because C runtimes differ in the last bit.
    /// </summary>
    public double NextGaussian()
    {
        while (true)
        {
            var u = 2 * NextDouble() - 1;
            var v = 2 * NextDouble() - 1;
            var s = u * u + v * v;
            if (s >= 1 || s == 0) continue;
            return u * Math.Sqrt(-2 * DeterministicMath.Log(s) / s);
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
