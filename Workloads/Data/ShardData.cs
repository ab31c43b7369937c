namespace Huginn.Workloads;

/// <summary>The slice of the dataset a shard works on, wherever the dataset comes from.</summary>
public static class ShardData
{
    /// <summary>
    /// The dataset a shard reads: the validation dataset for an evaluation shard of a job that has a separate one
    /// (a blob or synthetic), else the job's dataset (whose last rows a validation fraction holds out).
    /// </summary>
    public static DatasetSpec DatasetOf(JobSpec spec, ShardPlan shard) =>
        shard.Evaluate && spec.Validation?.Dataset is { } validation ? validation : spec.Dataset;

    /// <summary>
    /// Generates the shard's slice of a synthetic dataset, or reads it from stored bytes (<paramref name="blob"/>,
    /// ignored for synthetic datasets): a whole blob, or the chunks of a dataset that cover the slice, which begin at
    /// byte <paramref name="startByte"/> of the dataset. The dataset is <see cref="DatasetOf"/>.
    /// </summary>
    public static DataSlice Load(JobSpec spec, ShardPlan shard, ReadOnlySpan<byte> blob = default, long startByte = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(shard);
        var model = spec.Model ?? throw new ArgumentException("The job has no model to shape its rows.", nameof(spec));
        var dataset = DatasetOf(spec, shard);
        if (dataset.Synthetic is { } synthetic) return SyntheticData.Generate(synthetic, model, shard.SampleOffset, shard.SampleCount);
        if (dataset.DatasetId is null && dataset.Format == DatasetFormats.F32)
            return SyntheticData.ReadF32(blob, model, shard.SampleOffset, shard.SampleCount);
        var layout = DatasetLayout.For(dataset.Format, model, readTargets: spec.Kind == WorkloadKind.Train);
        return DatasetReader.Read(layout, blob, startByte, shard.SampleOffset, shard.SampleCount);
    }
}
