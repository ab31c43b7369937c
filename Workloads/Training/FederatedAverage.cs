namespace Huginn.Workloads;

/// <summary>
/// Averages a round's verified weight deltas, weighted by the samples each processed, into the next weights:
/// W' = W + Σ(samplesᵢ·deltaᵢ) / Σ samplesᵢ. Sums are kept in double so that many shards do not lose precision;
/// the order in which deltas arrive changes only the last bits.
/// </summary>
public sealed class FederatedAverage
{
    private readonly double[] _sums;

    public FederatedAverage(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _sums = new double[length];
    }

    /// <summary>Restores an average from <see cref="Sums"/> and <see cref="TotalSamples"/> (e.g. from grain state).</summary>
    public FederatedAverage(double[] sums, long totalSamples)
    {
        ArgumentNullException.ThrowIfNull(sums);
        ArgumentOutOfRangeException.ThrowIfNegative(totalSamples);
        _sums = (double[])sums.Clone();
        TotalSamples = totalSamples;
    }

    public int Length => _sums.Length;

    public long TotalSamples { get; private set; }

    /// <summary>A copy of the weighted sums Σ samplesᵢ·deltaᵢ, to persist.</summary>
    public double[] Sums => (double[])_sums.Clone();

    public void Add(ReadOnlySpan<float> delta, long samples)
    {
        if (delta.Length != _sums.Length)
            throw new ArgumentException($"A delta of {delta.Length} values does not fit weights of {_sums.Length}.", nameof(delta));
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        for (var i = 0; i < _sums.Length; i++) _sums[i] += samples * (double)delta[i];
        TotalSamples = checked(TotalSamples + samples);
    }

    /// <summary>The averaged next weights; the weights unchanged when nothing was added.</summary>
    public float[] ApplyTo(ReadOnlySpan<float> weights)
    {
        if (weights.Length != _sums.Length)
            throw new ArgumentException($"Weights of {weights.Length} values do not fit deltas of {_sums.Length}.", nameof(weights));
        var next = weights.ToArray();
        if (TotalSamples == 0) return next;
        for (var i = 0; i < next.Length; i++) next[i] = (float)(weights[i] + _sums[i] / TotalSamples);
        return next;
    }
}
