namespace Huginn.Workloads;

/// <summary>The slice of the dataset a shard works on, wherever the dataset comes from.</summary>
public static class ShardData
{
    /// <summary>
    /// The dataset a shard reads: the validation dataset for an evaluation shard of a job that has a separate one,
    /// else the job's dataset (whose last rows a validation fraction holds out).
    /// </summary>
    public static DatasetSpec DatasetOf(JobSpec spec, ShardPlan shard) =>
        shard.Evaluate && spec.Validation?.Dataset is { } validation ? validation : spec.Dataset;

    /// <summary>
    /// Generates the shard's slice of a synthetic dataset, or reads it from the dataset blob
    /// (<paramref name="blob"/>, the blob of <see cref="DatasetOf"/>; ignored for synthetic datasets).
    /// </summary>
    public static DataSlice Load(JobSpec spec, ShardPlan shard, ReadOnlySpan<byte> blob = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(shard);
        var model = spec.Model ?? throw new ArgumentException("The job has no model to shape its rows.", nameof(spec));
        return DatasetOf(spec, shard).Synthetic is { } synthetic
            ? SyntheticData.Generate(synthetic, model, shard.SampleOffset, shard.SampleCount)
            : SyntheticData.ReadF32(blob, model, shard.SampleOffset, shard.SampleCount);
    }
}
