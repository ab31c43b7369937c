using Huginn.Blobs;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;

namespace Huginn.Grains.Jobs;

/// <summary>A job's inputs checked at submission: blobs that exist with the right size, and its starting weights.</summary>
public static class JobInputs
{
    /// <summary>
    /// Checks that blob inputs exist and have the size the spec implies, and returns the starting weights:
    /// from the named blob, from an earlier training job of the same owner, or initialised from the seed.
    /// </summary>
    public static async Task<(float[] Weights, List<SpecError> Errors)> LoadAsync(IGrainFactory grains, IBlobStore blobs, JobSpec spec, string ownerAccountId)
    {
        var errors = new List<SpecError>();
        if (spec.Dataset.BlobId is { } datasetBlob)
        {
            var length = await blobs.GetLengthAsync(datasetBlob);
            var model = ModelRegistry.Get(spec.Model!.Type);
            var rowBytes = 4L * (model.FeaturesPerSample(spec.Model) + model.TargetsPerSample(spec.Model));
            if (length is null) errors.Add(new SpecError("dataset.blobId", "no blob with this id; upload it first (POST /v1/blobs)"));
            else if (length != spec.Dataset.Samples * rowBytes)
                errors.Add(new SpecError("dataset.samples", $"the blob holds {length} bytes, but {spec.Dataset.Samples} f32 rows of {rowBytes} bytes need {spec.Dataset.Samples * rowBytes}"));
        }
        if (spec.Kind == WorkloadKind.Prep) return ([], errors);
        if (spec.WeightsFromJobId is { } sourceJobId) return await WeightsFromJobAsync(grains, spec, sourceJobId, ownerAccountId, errors);
        if (spec.WeightsBlobId is not { } weightsBlob) return (ModelInitializer.Initialize(spec.Model!, spec.Seed), errors);

        var expected = 4L * ModelRegistry.Get(spec.Model!.Type).ParameterCount(spec.Model);
        var weightsLength = await blobs.GetLengthAsync(weightsBlob);
        if (weightsLength is null) errors.Add(new SpecError("weightsBlobId", "no blob with this id; upload it first (POST /v1/blobs)"));
        else if (weightsLength != expected)
            errors.Add(new SpecError("weightsBlobId", $"the blob holds {weightsLength} bytes; this model's float32 weights take {expected}"));
        if (errors.Count > 0) return ([], errors);
        // Megabytes read off the grain's turn.
        var bytes = await Task.Run(() => blobs.ReadAllBytesAsync(weightsBlob));
        if (bytes is null) return ([], [new SpecError("weightsBlobId", "no blob with this id; upload it first (POST /v1/blobs)")]);
        return (WeightsFormat.FromBytes(bytes), errors);
    }

    /// <summary>The job's holder name in the blob store: its inputs and round weights stay stored while it holds them.</summary>
    public static string BlobHolder(string jobId) => $"job:{jobId}";

    /// <summary>Marks the dataset and weights blobs a submitted job reads as in use by it.</summary>
    public static async Task ReferenceAsync(IBlobStore blobs, JobSpec spec, string jobId)
    {
        foreach (var blobId in new[] { spec.Dataset.BlobId, spec.WeightsBlobId }.OfType<string>())
            await blobs.AddReferenceAsync(blobId, BlobHolder(jobId));
    }

    private static async Task<(float[] Weights, List<SpecError> Errors)> WeightsFromJobAsync(
        IGrainFactory grains, JobSpec spec, string sourceJobId, string ownerAccountId, List<SpecError> errors)
    {
        var source = grains.GetGrain<IJobGrain>(sourceJobId);
        var view = await source.GetAsync();
        // Another owner's job reads as unknown: its existence is not ours to reveal.
        if (view is null || view.OwnerAccountId != ownerAccountId) errors.Add(new SpecError("weightsFromJobId", "no job of yours with this id"));
        else if (view.Spec.Kind != WorkloadKind.Train) errors.Add(new SpecError("weightsFromJobId", "is not a training job"));
        else if (view.Status != JobStatus.Completed) errors.Add(new SpecError("weightsFromJobId", $"has not completed (it is {view.Status.ToString().ToLowerInvariant()})"));
        else if (!SameModel(view.Spec.Model!, spec.Model!)) errors.Add(new SpecError("model", "must be the model the source job trained"));
        if (errors.Count > 0) return ([], errors);
        return ((await source.GetResultAsync())!.Values, errors);
    }

    private static bool SameModel(ModelSpec a, ModelSpec b) =>
        a with { HiddenSizes = [], ConvChannels = [] } == b with { HiddenSizes = [], ConvChannels = [] }
        && a.HiddenSizes.SequenceEqual(b.HiddenSizes) && a.ConvChannels.SequenceEqual(b.ConvChannels);
}
