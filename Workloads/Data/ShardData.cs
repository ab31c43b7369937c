namespace Huginn.Workloads;

/// <summary>The slice of the dataset a shard works on, wherever the dataset comes from.</summary>
public static class ShardData
{
    /// <summary>
    /// Generates the shard's slice of a synthetic dataset, or reads it from stored bytes (<paramref name="blob"/>,
    /// ignored for synthetic datasets): a whole blob, or the chunks of a dataset that cover the slice, which begin at
    /// byte <paramref name="startByte"/> of the dataset.
    /// </summary>
    public static DataSlice Load(JobSpec spec, ShardPlan shard, ReadOnlySpan<byte> blob = default, long startByte = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(shard);
        var model = spec.Model ?? throw new ArgumentException("The job has no model to shape its rows.", nameof(spec));
        if (spec.Dataset.Synthetic is { } synthetic) return SyntheticData.Generate(synthetic, model, shard.SampleOffset, shard.SampleCount);
        if (spec.Dataset.DatasetId is null && spec.Dataset.Format == DatasetFormats.F32)
            return SyntheticData.ReadF32(blob, model, shard.SampleOffset, shard.SampleCount);
        var layout = DatasetLayout.For(spec.Dataset.Format, model, readTargets: spec.Kind == WorkloadKind.Train);
        return DatasetReader.Read(layout, blob, startByte, shard.SampleOffset, shard.SampleCount);
    }
}
