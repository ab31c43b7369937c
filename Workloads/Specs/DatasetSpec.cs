namespace Huginn.Workloads;

/// <summary>
/// Where a job's samples come from: a dataset (<see cref="DatasetId"/>), an uploaded blob or a synthetic generator
/// (exactly one of the three).
/// </summary>
/// <remarks>
/// The "f32" blob format is a sequence of rows with no header: each row is FeaturesPerSample little-endian
/// IEEE-754 float32 features followed by TargetsPerSample float32 targets (see
/// <see cref="IModelDefinition.FeaturesPerSample"/>); a class index is stored as a float. Images are CHW
/// row-major; a transformer's features are token ids. The blob must hold a whole number of rows. A blob may also be
/// "f32-features" (no targets; inference and prep). A dataset's formats are in <see cref="DatasetFormats"/> and
/// docs/DATASETS.md.
/// </remarks>
[GenerateSerializer, Immutable, Alias("huginn.dataset-spec")]
public sealed record DatasetSpec
{
    public const string F32 = "f32";

    /// <summary>The lowercase hex sha256 of an uploaded blob.</summary>
    [Id(0)] public string? BlobId { get; init; }
    [Id(1)] public SyntheticDatasetSpec? Synthetic { get; init; }
    /// <summary>Rows of the blob; leave 0 for a synthetic dataset, whose count is <see cref="SyntheticDatasetSpec.Samples"/>.</summary>
    [Id(2)] public long Samples { get; init; }
    /// <summary>Layout of a blob: "f32" or "f32-features". For a dataset it is the dataset's own, filled in at submission.</summary>
    [Id(3)] public string Format { get; init; } = F32;
    /// <summary>
    /// A finalized dataset of the job's owner (<c>POST /v1/datasets</c>). <see cref="Samples"/> may stay 0 (all of its
    /// samples) or name fewer (the first ones).
    /// </summary>
    [Id(4)] public string? DatasetId { get; init; }

    /// <summary>The number of samples, wherever the dataset comes from.</summary>
    public long SampleCount() => Synthetic?.Samples ?? Samples;
}
