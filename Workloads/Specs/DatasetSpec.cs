namespace Huginn.Workloads;

/// <summary>
/// Where a job's samples come from: an uploaded blob or a synthetic generator (exactly one of the two).
/// </summary>
/// <remarks>
/// The "f32" blob format is a sequence of rows with no header: each row is FeaturesPerSample little-endian
/// IEEE-754 float32 features followed by TargetsPerSample float32 targets (see
/// <see cref="IModelDefinition.FeaturesPerSample"/>); a class index is stored as a float. Images are CHW
/// row-major; a transformer's features are token ids. The blob must hold a whole number of rows.
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
    /// <summary>Layout of a blob; only "f32".</summary>
    [Id(3)] public string Format { get; init; } = F32;

    /// <summary>The number of samples, wherever the dataset comes from.</summary>
    public long SampleCount() => Synthetic?.Samples ?? Samples;
}
