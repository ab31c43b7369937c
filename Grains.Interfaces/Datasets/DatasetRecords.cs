using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Datasets;

/// <summary>What a client declares when it creates a dataset: everything but the bytes, which come as chunks.</summary>
/// <param name="ChunkBytes">Every chunk but the last holds exactly this many bytes; the last holds the rest.</param>
/// <param name="Sha256">The whole file's SHA-256 (lowercase hex), when the client gave it: finalize checks the chunks
/// against it, and a client resumes an interrupted upload by finding the dataset with its file's hash.</param>
[GenerateSerializer, Immutable, Alias("huginn.dataset-declaration")]
public sealed record DatasetDeclaration(
    [property: Id(0)] string OwnerAccountId,
    [property: Id(1)] string Name,
    [property: Id(2)] string Format,
    [property: Id(3)] int FeaturesPerSample,
    [property: Id(4)] int TargetsPerSample,
    [property: Id(5)] long TotalBytes,
    [property: Id(6)] long ChunkBytes,
    [property: Id(7)] string? Sha256 = null)
{
    public int ChunkCount => (int)((TotalBytes + ChunkBytes - 1) / ChunkBytes);

    /// <summary>The exact size chunk <paramref name="index"/> must have.</summary>
    public long ChunkLength(int index) => index < ChunkCount - 1 ? ChunkBytes : TotalBytes - (long)(ChunkCount - 1) * ChunkBytes;
}

[GenerateSerializer, Alias("huginn.dataset-status")]
public enum DatasetStatus
{
    /// <summary>Created; chunks arrive (in any order, each as often as the client likes).</summary>
    Uploading = 0,
    /// <summary>Finalized: every chunk is in, the facts are recorded; jobs may name it. Its chunks can no longer change.</summary>
    Ready = 1,
}

/// <summary>A dataset as its owner sees it: declaration, which chunks arrived, and once ready the facts.</summary>
[GenerateSerializer, Immutable, Alias("huginn.dataset-view")]
public sealed record DatasetView(
    [property: Id(0)] string DatasetId,
    [property: Id(1)] DatasetDeclaration Declaration,
    [property: Id(2)] DatasetStatus Status,
    [property: Id(3)] string?[] ChunkIds,
    [property: Id(4)] DatasetFacts? Facts,
    [property: Id(5)] DateTimeOffset CreatedAt)
{
    public int[] MissingChunks => Enumerable.Range(0, ChunkIds.Length).Where(i => ChunkIds[i] is null).ToArray();
}

/// <summary>How recording a chunk went.</summary>
[GenerateSerializer, Alias("huginn.chunk-outcome")]
public enum ChunkOutcome
{
    /// <summary>Recorded (or the same bytes were recorded already: uploads are idempotent).</summary>
    Recorded = 0,
    NoSuchDataset = 1,
    /// <summary>Finalized datasets are immutable.</summary>
    AlreadyFinalized = 2,
    /// <summary>Another chunk's bytes sit at this index already: a client mixing two files, not a retry.</summary>
    DifferentBytes = 3,
}

/// <summary>Who may name a dataset in a job: its owner, once it is finalized.</summary>
public static class DatasetAccess
{
    /// <summary>Why a job of <paramref name="ownerAccountId"/> may not read this dataset, or null when it may: another owner's reads as unknown.</summary>
    public static SpecError? Unusable(DatasetView? view, string ownerAccountId)
    {
        if (view is null || view.Declaration.OwnerAccountId != ownerAccountId)
            return new SpecError("dataset.datasetId", "no dataset of yours with this id (POST /v1/datasets)");
        if (view.Status != DatasetStatus.Ready || view.Facts is null)
            return new SpecError("dataset.datasetId",
                $"is not finalized ({view.MissingChunks.Length} of {view.ChunkIds.Length} chunks missing): upload them and finalize it first (POST /v1/datasets/{view.DatasetId}/finalize)");
        return null;
    }
}
