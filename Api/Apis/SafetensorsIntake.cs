using Huginn.Api.Access;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Datasets;
using Huginn.Workloads;

namespace Huginn.Api.Apis;

/// <summary>
/// <c>spec.weights.safetensorsBlobId</c> at submission: the uploaded file is read from the blob store here, in the
/// Api request (never on a grain), checked against the model (every expected tensor with its shape, no other), and
/// streamed into the store as the flat f32 blob in layout order that the workers read. The job then runs from
/// <c>weights.f32BlobId</c>, the converted blob. <c>spec.weights.datasetId</c> (a "safetensors" dataset) goes the same
/// way, its chunks streamed in order from the store.
/// </summary>
public static class SafetensorsIntake
{
    private const string BlobField = "weights.safetensorsBlobId";

    /// <summary>The spec to submit (converted, or as it was when it names no safetensors file) and what is wrong with the file.</summary>
    public static async Task<(JobSpec Spec, IReadOnlyList<SpecError> Errors)> ConvertAsync(
        JobSpec spec, Caller caller, IBlobStore store, IGrainFactory grains, CancellationToken cancellationToken)
    {
        if (spec.Model is not { } model) return (spec, []);
        if (spec.Weights?.SafetensorsBlobId is { } blobId)
        {
            const string Absent = "no blob of yours with this id; upload the file first (POST /v1/blobs)";
            if (!await BlobsApi.MayReadAsync(caller, blobId, store, grains, cancellationToken)) return (spec, [new SpecError(BlobField, Absent)]);
            var length = await store.GetLengthAsync(blobId, cancellationToken);
            await using var file = await store.OpenReadAsync(blobId, cancellationToken);
            if (file is null || length is null) return (spec, [new SpecError(BlobField, Absent)]);
            return await ConvertFileAsync(spec, model, file, length.Value, BlobField, store, cancellationToken);
        }
        if (spec.Weights?.DatasetId is { } datasetId)
        {
            // A file larger than one blob, or uploaded resumably: its chunks are read in order as the one file they were cut from.
            var view = datasetId.Length is 0 or > 100 ? null : await grains.GetGrain<IDatasetGrain>(datasetId).GetAsync();
            if (WeightsDatasetAccess.Unusable(view, caller.AccountId) is { } unusable) return (spec, [unusable]);
            await using var file = new DatasetChunksStream(store, view!.ChunkIds.Select(id => id!).ToList(), view.Declaration.ChunkBytes, view.Declaration.TotalBytes);
            try
            {
                return await ConvertFileAsync(spec, model, file, view.Declaration.TotalBytes, WeightsDatasetAccess.Field, store, cancellationToken);
            }
            catch (DatasetChunkMissingException ex)
            {
                return (spec, [new SpecError(WeightsDatasetAccess.Field, ex.Message)]);
            }
        }
        return (spec, []);
    }

    /// <summary>Checks the file's header against the model and stores its tensors as the flat f32 blob in layout order.</summary>
    private static async Task<(JobSpec Spec, IReadOnlyList<SpecError> Errors)> ConvertFileAsync(
        JobSpec spec, ModelSpec model, Stream file, long length, string field, IBlobStore store, CancellationToken cancellationToken)
    {
        SafetensorsHeader header;
        try
        {
            header = await SafetensorsFormat.ReadHeaderAsync(file, length, cancellationToken);
        }
        catch (SafetensorsException ex)
        {
            return (spec, [new SpecError(field, $"is not a valid safetensors file: {ex.Message}")]);
        }
        var (ranges, problems) = SafetensorsFormat.MatchModel(header, model);
        if (problems.Count > 0) return (spec, problems.Select(p => new SpecError(field, $"does not fit the model: {p}")).ToList());

        // Unreferenced until the job takes it at submission (JobInputs.ReferenceAsync): a refused submission leaves it to
        // the collector after the grace period, like any blob nobody holds.
        await using var flat = new ByteRangesStream(file, ranges.Select(r => (header.DataStart + r.Begin, r.Bytes)).ToList(), leaveOpen: true);
        var put = await store.PutAsync(flat, cancellationToken: cancellationToken);
        if (!put.Succeeded) return (spec, [new SpecError(field, $"its weights could not be stored as f32 ({put.Outcome})")]);
        return (spec with { Weights = new WeightsSpec { F32BlobId = put.BlobId } }, []);
    }
}
