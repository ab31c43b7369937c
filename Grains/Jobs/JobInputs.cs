using Huginn.Blobs;
using Huginn.Grains.Interfaces.Datasets;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;

namespace Huginn.Grains.Jobs;

/// <summary>
/// A job's inputs checked at submission: blobs that exist with the right size, and its starting weights, which
/// are always a blob (the job's state holds only their id, whatever the model's size).
/// </summary>
public static class JobInputs
{
    /// <summary>
    /// Checks that blob inputs exist and have the size the spec implies, and returns the blob of the starting
    /// weights: the named blob, an earlier training job's result of the same owner, or weights initialised from the
    /// seed and stored now. Null for prep, which has no model weights.
    /// </summary>
    public static Task<(string? WeightsBlobId, List<SpecError> Errors)> LoadAsync(IGrainFactory grains, IBlobStore blobs, JobSpec spec, string ownerAccountId) =>
        ResolveAsync(grains, blobs, spec, ownerAccountId, initialize: true);

    /// <summary>
    /// The same checks as <see cref="LoadAsync"/> without its side effect (no starting weights are stored): what an
    /// estimate runs (<see cref="SubmissionChecks"/>), so that it refuses what a submission would.
    /// </summary>
    public static async Task<List<SpecError>> CheckAsync(IGrainFactory grains, IBlobStore blobs, JobSpec spec, string ownerAccountId) =>
        (await ResolveAsync(grains, blobs, spec, ownerAccountId, initialize: false)).Errors;

    private static async Task<(string? WeightsBlobId, List<SpecError> Errors)> ResolveAsync(IGrainFactory grains, IBlobStore blobs, JobSpec spec, string ownerAccountId, bool initialize)
    {
        var errors = new List<SpecError>();
        if (spec.Dataset.BlobId is { } datasetBlob)
        {
            var length = await blobs.GetLengthAsync(datasetBlob);
            // Says what a row is (features only, or features + targets, in floats and bytes): issue 13, finding 2.
            var layout = DatasetLayout.For(spec.Dataset.Format, spec.Model!, readTargets: spec.Kind == WorkloadKind.Train);
            var rowBytes = layout.RowBytes;
            if (length is null) errors.Add(new SpecError("dataset.blobId", "no blob with this id; upload it first (POST /v1/blobs)"));
            else if (length != spec.Dataset.Samples * rowBytes)
                errors.Add(new SpecError("dataset.samples",
                    $"the blob holds {length} bytes ({(length % rowBytes == 0 ? $"{length / rowBytes} rows" : "not a whole number of rows")}), but {spec.Dataset.Samples} {layout.Describe()} need {spec.Dataset.Samples * rowBytes}" +
                    (spec.Dataset.Format == DatasetFormats.F32 && spec.Kind != WorkloadKind.Train ? "; inference input without a target column is format \"f32-features\"" : "")));
        }
        if (spec.Validation?.Dataset is { BlobId: { } validationBlob } validation)
        {
            // The same check for a separate validation dataset, in the training set's layout.
            var length = await blobs.GetLengthAsync(validationBlob);
            var model = ModelRegistry.Get(spec.Model!.Type);
            var rowBytes = 4L * (model.FeaturesPerSample(spec.Model) + model.TargetsPerSample(spec.Model));
            if (length is null) errors.Add(new SpecError("validation.dataset.blobId", "no blob with this id; upload it first (POST /v1/blobs)"));
            else if (length != validation.Samples * rowBytes)
                errors.Add(new SpecError("validation.dataset.samples", $"the blob holds {length} bytes, but {validation.Samples} f32 rows of {rowBytes} bytes need {validation.Samples * rowBytes}"));
        }
        if (spec.Kind == WorkloadKind.Prep) return (null, errors);
        if (spec.Weights is { } weights) return await FromWeightsSpecAsync(grains, blobs, spec, weights, ownerAccountId, errors, initialize);
        if (spec.WeightsFromJobId is { } sourceJobId) return await WeightsFromJobAsync(grains, spec, sourceJobId, null, "weightsFromJobId", ownerAccountId, errors);
        if (spec.WeightsBlobId is not { } weightsBlob) return errors.Count > 0 || !initialize ? (null, errors) : (await InitializeAsync(blobs, spec), errors);
        return await F32WeightsAsync(blobs, spec, weightsBlob, "weightsBlobId", errors);
    }

    /// <summary>
    /// <c>spec.weights</c>: an f32 blob, or an earlier job's result or round checkpoint. A safetensors file has been
    /// converted to an f32 blob by the Api before the job sees the spec, so one left here was never checked.
    /// </summary>
    private static async Task<(string? WeightsBlobId, List<SpecError> Errors)> FromWeightsSpecAsync(
        IGrainFactory grains, IBlobStore blobs, JobSpec spec, WeightsSpec weights, string ownerAccountId, List<SpecError> errors, bool initialize)
    {
        if (weights.FromJobId is { } sourceJobId) return await WeightsFromJobAsync(grains, spec, sourceJobId, weights.Round, "weights.fromJobId", ownerAccountId, errors);
        if (weights.F32BlobId is { } f32Blob) return await F32WeightsAsync(blobs, spec, f32Blob, "weights.f32BlobId", errors);
        // An estimate sees the spec as the client wrote it (the Api converts a safetensors file only when submitting):
        // it checks that the file is there; its tensors are checked against the model at submission.
        if (!initialize && weights.SafetensorsBlobId is { } file)
        {
            if (await blobs.GetLengthAsync(file) is null) errors.Add(new SpecError("weights.safetensorsBlobId", "no blob with this id; upload it first (POST /v1/blobs)"));
            return (null, errors);
        }
        // The same for a dataset of weights: it is there, yours, finalized and of the weights format (WeightsDatasetAccess).
        if (!initialize && weights.DatasetId is { } datasetId)
        {
            var view = await grains.GetGrain<IDatasetGrain>(datasetId).GetAsync();
            if (WeightsDatasetAccess.Unusable(view, ownerAccountId) is { } unusable) errors.Add(unusable);
            return (null, errors);
        }
        errors.Add(weights.SafetensorsBlobId is not null || weights.DatasetId is not null
            ? new SpecError(weights.DatasetId is not null ? WeightsDatasetAccess.Field : "weights.safetensorsBlobId",
                "is read and converted by the Api at submission (POST /v1/jobs); the job itself takes f32 weights")
            : new SpecError("weights", "give one of safetensorsBlobId, f32BlobId, fromJobId or datasetId"));
        return (null, errors);
    }

    private static async Task<(string? WeightsBlobId, List<SpecError> Errors)> F32WeightsAsync(IBlobStore blobs, JobSpec spec, string weightsBlob, string field, List<SpecError> errors)
    {
        var expected = 4L * ModelRegistry.Get(spec.Model!.Type).ParameterCount(spec.Model);
        var weightsLength = await blobs.GetLengthAsync(weightsBlob);
        if (weightsLength is null) errors.Add(new SpecError(field, "no blob with this id; upload it first (POST /v1/blobs)"));
        else if (weightsLength != expected)
            errors.Add(new SpecError(field, $"the blob holds {weightsLength} bytes; this model's float32 weights take {expected}"));
        return (errors.Count > 0 ? null : weightsBlob, errors);
    }

    /// <summary>Marks the dataset and weights blobs a submitted job reads as in use by it.</summary>
    public static async Task ReferenceAsync(IBlobStore blobs, JobSpec spec, string? weightsBlobId, string jobId)
    {
        foreach (var blobId in new[] { spec.Dataset.BlobId, spec.Validation?.Dataset?.BlobId, weightsBlobId }.OfType<string>().Distinct())
            await blobs.AddReferenceAsync(blobId, BlobHolders.Job(jobId));
    }

    /// <summary>Weights from the seed, computed off the grain's turn and stored as a blob.</summary>
    private static Task<string> InitializeAsync(IBlobStore blobs, JobSpec spec) => Task.Run(async () =>
    {
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);
        await using var stream = F32Streams.AsStream(weights);
        var stored = await blobs.PutAsync(stream);
        if (!stored.Succeeded) throw new InvalidOperationException($"the initial weights could not be stored: {stored.Outcome}");
        return stored.BlobId!;
    });

    private static async Task<(string? WeightsBlobId, List<SpecError> Errors)> WeightsFromJobAsync(
        IGrainFactory grains, JobSpec spec, string sourceJobId, int? round, string field, string ownerAccountId, List<SpecError> errors)
    {
        var source = grains.GetGrain<IJobGrain>(sourceJobId);
        var view = await source.GetAsync();
        // Another owner's job reads as unknown: its existence is not ours to reveal.
        if (view is null || view.OwnerAccountId != ownerAccountId) errors.Add(new SpecError(field, "no job of yours with this id"));
        else if (view.Spec.Kind != WorkloadKind.Train) errors.Add(new SpecError(field, "is not a training job"));
        else if (!SameModel(view.Spec.Model!, spec.Model!)) errors.Add(new SpecError("model", "must be the model the source job trained"));
        if (errors.Count > 0) return (null, errors);
        // A round's checkpoint is complete once the round is, whether or not the job has finished.
        if (round is { } wanted)
        {
            var checkpoints = await source.GetCheckpointsAsync();
            if (checkpoints.FirstOrDefault(c => c.Round == wanted) is { } checkpoint) return (checkpoint.BlobId, errors);
            errors.Add(new SpecError("weights.round", checkpoints.Length == 0
                ? "the source job has completed no round yet"
                : $"the source job has checkpoints of rounds 1 to {checkpoints[^1].Round}"));
            return (null, errors);
        }
        // A completed job's final weights, or the last checkpoint of one that failed or was cancelled after a round.
        if (await source.GetResultAsync() is not { } result)
        {
            errors.Add(new SpecError(field, view!.IsFinished
                ? $"is {view.Status.ToString().ToLowerInvariant()} before completing a round: it has no weights"
                : $"has not finished (it is {view.Status.ToString().ToLowerInvariant()})"));
            return (null, errors);
        }
        return (result.BlobIds.Single(), errors);
    }

    private static bool SameModel(ModelSpec a, ModelSpec b) =>
        a with { HiddenSizes = [], ConvChannels = [] } == b with { HiddenSizes = [], ConvChannels = [] }
        && a.HiddenSizes.SequenceEqual(b.HiddenSizes) && a.ConvChannels.SequenceEqual(b.ConvChannels);
}
