using Huginn.Blobs;
using Huginn.Grains.Interfaces.Datasets;
using Huginn.Workloads;

namespace Huginn.Grains.Jobs;

/// <summary>
/// A dataset job's input checked at submission: the dataset is the owner's and finalized, and the spec fits what it
/// holds (<see cref="DatasetChecks"/>, the rule the Api ran for the estimate and the submission already: run again
/// here because the dataset may have changed hands or gone since). Returns its chunk ids for the job to keep.
/// </summary>
public static class DatasetInputs
{
    public static async Task<(DatasetChunkList? Chunks, List<SpecError> Errors)> LoadAsync(IGrainFactory grains, JobSpec spec, string ownerAccountId)
    {
        var errors = new List<SpecError>();
        if (spec.Dataset.DatasetId is not { } datasetId) return (null, errors);
        var view = await grains.GetGrain<IDatasetGrain>(datasetId).GetAsync();
        if (DatasetAccess.Unusable(view, ownerAccountId) is { } problem)
        {
            errors.Add(problem);
            return (null, errors);
        }
        errors.AddRange(DatasetChecks.Check(spec, view!.Facts!));
        if (errors.Count == 0 && spec.Dataset.Format != view.Facts!.Format)
            errors.Add(new SpecError("dataset.format", $"the dataset is \"{view.Facts.Format}\""));
        if (errors.Count > 0) return (null, errors);
        return (new DatasetChunkList(view.Declaration.ChunkBytes, view.ChunkIds.Select(id => id!).ToArray(), view.Declaration.TotalBytes), errors);
    }

    /// <summary>The job holds every chunk it may read, so deleting the dataset while the job runs takes nothing from it.</summary>
    public static async Task ReferenceAsync(IBlobStore blobs, DatasetChunkList? chunks, string jobId)
    {
        if (chunks is null) return;
        foreach (var chunkId in chunks.ChunkIds.Distinct()) await blobs.AddReferenceAsync(chunkId, BlobHolders.Job(jobId));
    }
}
