namespace Huginn.Workloads;

/// <summary>The slice of the dataset a shard works on, wherever the dataset comes from.</summary>
public static class ShardData
{
    /// <summary>
    /// Generates the shard's slice of a synthetic dataset, or reads it from the dataset blob
    /// (<paramref name="blob"/>, ignored for synthetic datasets).
    /// </summary>
    public static DataSlice Load(JobSpec spec, ShardPlan shard, ReadOnlySpan<byte> blob = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(shard);
        var model = spec.Model ?? throw new ArgumentException("The job has no model to shape its rows.", nameof(spec));
        return spec.Dataset.Synthetic is { } synthetic
            ? SyntheticData.Generate(synthetic, model, shard.SampleOffset, shard.SampleCount)
            : SyntheticData.ReadF32(blob, model, shard.SampleOffset, shard.SampleCount);
    }
}
