namespace Huginn.Workloads;

/// <summary>
/// The mini-batches of a training shard: indices into the shard's slice, uniform with replacement, drawn in
/// order from one <see cref="DeterministicRandom"/> seeded with <see cref="ShardPlan.Seed"/>. Every device must
/// draw them this way, or honest results would not agree.
/// </summary>
public sealed class MiniBatchSampler
{
    private readonly DeterministicRandom _random;
    private readonly int _sliceCount;

    public MiniBatchSampler(ulong shardSeed, int sliceCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sliceCount);
        _random = new DeterministicRandom(shardSeed);
        _sliceCount = sliceCount;
    }

    /// <summary>Fills <paramref name="indices"/> with the next batch (one index per element).</summary>
    public void NextBatch(Span<int> indices)
    {
        for (var i = 0; i < indices.Length; i++) indices[i] = _random.NextInt(_sliceCount);
    }

    public int[] NextBatch(int batchSize)
    {
        var indices = new int[batchSize];
        NextBatch(indices);
        return indices;
    }
}
