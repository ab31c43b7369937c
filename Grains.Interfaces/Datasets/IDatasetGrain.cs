using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Datasets;

/// <summary>
/// One dataset's manifest: its declaration, the content id of each chunk, and once finalized the facts learned from
/// its bytes. Key: the dataset id. Holds ids and numbers, never bytes: chunks live in the blob store, and the Api
/// streams them there and back.
/// </summary>
[Alias("huginn.IDatasetGrain")]
public interface IDatasetGrain : IGrainWithStringKey
{
    /// <summary>Creates the manifest; false when the id is taken.</summary>
    [Alias("create")]
    Task<bool> CreateAsync(DatasetDeclaration declaration);

    /// <summary>The manifest, or null when there is no such dataset.</summary>
    [Alias("get")]
    Task<DatasetView?> GetAsync();

    /// <summary>Records that chunk <paramref name="index"/> (checked in length by the caller) is the blob <paramref name="blobId"/>.</summary>
    [Alias("record-chunk")]
    Task<ChunkOutcome> RecordChunkAsync(int index, string blobId);

    /// <summary>Marks it ready with the facts the Api learned from the chunks; false when a chunk is missing or it is gone.</summary>
    [Alias("finalize")]
    Task<bool> FinalizeAsync(DatasetFacts facts);

    /// <summary>Forgets the manifest (the caller lets go of the chunks); returns what it was, or null when there was none.</summary>
    [Alias("delete")]
    Task<DatasetView?> DeleteAsync();
}

/// <summary>
/// An account's datasets and the bytes they reserve against its quota. Key: the account id. A dataset's declared
/// size is reserved when it is created, so that an upload never fails halfway for want of room.
/// </summary>
[Alias("huginn.IAccountDatasetsGrain")]
public interface IAccountDatasetsGrain : IGrainWithStringKey
{
    /// <summary>Reserves the bytes of a new dataset; false when they would pass <paramref name="maxBytes"/> or the count <paramref name="maxDatasets"/>.</summary>
    [Alias("try-reserve")]
    Task<bool> TryReserveAsync(string datasetId, long bytes, long maxBytes, int maxDatasets);

    /// <summary>Gives a dataset's reservation back.</summary>
    [Alias("release")]
    Task ReleaseAsync(string datasetId);

    /// <summary>The account's dataset ids, oldest first.</summary>
    [Alias("list")]
    Task<string[]> ListAsync();

    /// <summary>Bytes reserved by the account's datasets.</summary>
    [Alias("reserved-bytes")]
    Task<long> ReservedBytesAsync();
}
