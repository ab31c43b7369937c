namespace Huginn.Api.Hosting;

/// <summary>Limits on datasets (docs/DATASETS.md), bound from "Huginn:Datasets".</summary>
public sealed class DatasetOptions
{
    public const string Section = "Huginn:Datasets";

    /// <summary>
    /// The largest chunk a client may choose; the blob store's own cap (<c>Huginn:Blobs:MaxBlobBytes</c>) bounds it
    /// too. A chunk is read whole into a worker's memory only when a shard's slice lies in it.
    /// </summary>
    public long MaxChunkBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>The chunk size when a client names none (capped like <see cref="MaxChunkBytes"/>).</summary>
    public long DefaultChunkBytes { get; set; } = 8L * 1024 * 1024;

    /// <summary>
    /// Chunks one dataset may have: with the largest chunk, 16 GiB. A job keeps its dataset's chunk ids in its state
    /// (about 70 bytes each), so this also bounds that state: 1,024 ids are about 70 KB.
    /// </summary>
    public int MaxChunks { get; set; } = 1024;

    /// <summary>Bytes the datasets of one account may declare in all; past it creating one is refused (429, "quota exceeded").</summary>
    public long BytesPerAccount { get; set; } = 16L * 1024 * 1024 * 1024;

    /// <summary>Datasets one account may have at once.</summary>
    public int MaxDatasetsPerAccount { get; set; } = 1000;

    /// <summary>The chunk cap in force: the smaller of <see cref="MaxChunkBytes"/> and what the blob store takes.</summary>
    public long ChunkCap(long storeMaxBlobBytes) => Math.Min(MaxChunkBytes, storeMaxBlobBytes);
}
