namespace Huginn.Workloads;

/// <summary>
/// Where a job's model weights come from (<c>spec.weights</c>): exactly one of an uploaded safetensors file, an
/// uploaded flat f32 blob, an earlier training job of the same owner (its result, or the checkpoint of one of its
/// rounds), or a dataset. Exclusive with the older <see cref="JobSpec.WeightsBlobId"/> and
/// <see cref="JobSpec.WeightsFromJobId"/>, which keep working.
/// </summary>
/// <remarks>
/// A safetensors file (a blob, or a "safetensors" dataset) is checked against the model and converted to the flat f32 blob by the Api at submission
/// (the grain never reads it): the job then runs from <see cref="F32BlobId"/>, the converted blob.
/// </remarks>
[GenerateSerializer, Immutable, Alias("huginn.weights-spec")]
public sealed record WeightsSpec
{
    /// <summary>An uploaded safetensors file with the model's tensors by their PyTorch names (README, "Weights as safetensors").</summary>
    [Id(0)] public string? SafetensorsBlobId { get; init; }
    /// <summary>An uploaded blob of little-endian float32 values in the registry's layout order (<see cref="WeightsFormat"/>).</summary>
    [Id(1)] public string? F32BlobId { get; init; }
    /// <summary>An earlier training job of the same owner with the same model.</summary>
    [Id(2)] public string? FromJobId { get; init; }
    /// <summary>With <see cref="FromJobId"/>: the checkpoint after this round (1-based); absent, the job's result.</summary>
    [Id(3)] public int? Round { get; init; }
    /// <summary>
    /// A finalized dataset of format "safetensors" holding the weights file (docs/DATASETS.md): for a file larger than
    /// one blob, or uploaded resumably. Converted by the Api at submission like <see cref="SafetensorsBlobId"/>.
    /// </summary>
    [Id(4)] public string? DatasetId { get; init; }

    /// <summary>Problems with <c>spec.weights</c> and its exclusivity with the older fields, named by field path.</summary>
    public static void Validate(JobSpec spec, List<SpecError> errors)
    {
        if (spec.Weights is not { } w) return;
        if (spec.Kind == WorkloadKind.Prep)
        {
            errors.Add(new SpecError("weights", "a prep job has no weights"));
            return;
        }
        if (spec.WeightsBlobId is not null || spec.WeightsFromJobId is not null)
            errors.Add(new SpecError("weights", "give weights or the older weightsBlobId/weightsFromJobId, not both"));
        var given = new[] { ("safetensorsBlobId", w.SafetensorsBlobId), ("f32BlobId", w.F32BlobId), ("fromJobId", w.FromJobId), ("datasetId", w.DatasetId) }
            .Where(f => f.Item2 is not null).Select(f => f.Item1).ToList();
        if (given.Count != 1)
        {
            errors.Add(new SpecError("weights", given.Count == 0
                ? "give one of safetensorsBlobId, f32BlobId, fromJobId or datasetId"
                : $"give only one of {string.Join(", ", given)}"));
            return;
        }
        if (w.SafetensorsBlobId is not null && !SpecValidator.IsBlobId(w.SafetensorsBlobId))
            errors.Add(new SpecError("weights.safetensorsBlobId", "must be a lowercase hex sha256 (64 characters)"));
        if (w.F32BlobId is not null && !SpecValidator.IsBlobId(w.F32BlobId))
            errors.Add(new SpecError("weights.f32BlobId", "must be a lowercase hex sha256 (64 characters)"));
        if (w.FromJobId is not null && (string.IsNullOrWhiteSpace(w.FromJobId) || w.FromJobId.Length > 100))
            errors.Add(new SpecError("weights.fromJobId", "must be a job id"));
        if (w.Round is { } round)
        {
            if (w.FromJobId is null) errors.Add(new SpecError("weights.round", "goes with weights.fromJobId: the round of that job's checkpoint"));
            else if (round < 1 || round > SpecValidator.MaxRounds) errors.Add(new SpecError("weights.round", $"must be from 1 to {SpecValidator.MaxRounds}"));
        }
        if (w.DatasetId is not null && (string.IsNullOrWhiteSpace(w.DatasetId) || w.DatasetId.Length > 100))
            errors.Add(new SpecError("weights.datasetId", "must be a dataset id (POST /v1/datasets, format \"safetensors\")"));
    }
}
