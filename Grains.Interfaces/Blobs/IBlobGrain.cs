using Orleans.Concurrency;

namespace Huginn.Grains.Interfaces.Blobs;

/// <summary>
/// One content-addressed blob (dataset, weights, result). Key: the lowercase hex SHA-256 of its bytes,
/// so a blob can be cached anywhere and checked by whoever reads it.
/// </summary>
[Alias("huginn.IBlobGrain")]
public interface IBlobGrain : IGrainWithStringKey
{
    public const int MaxBytes = 64 * 1024 * 1024;

    /// <summary>Stores the bytes if they hash to this grain's key; storing the same bytes again is harmless.</summary>
    [Alias("put")]
    Task<BlobPutOutcome> PutAsync(byte[] bytes);

    /// <summary>The bytes, or null when nothing was stored under this id.</summary>
    [Alias("get")]
    Task<byte[]?> GetAsync();

    /// <summary>
    /// The bytes without the copy Orleans makes for a caller in the same process (the co-hosted Api; a remote
    /// caller gets its own deserialized array anyway); null inside when nothing was stored. The caller must
    /// not modify them: they are the grain's state.
    /// </summary>
    [Alias("get-shared")]
    Task<Immutable<byte[]?>> GetSharedAsync();

    /// <summary>The size in bytes, or null when nothing was stored under this id.</summary>
    [Alias("length")]
    Task<long?> GetLengthAsync();
}

[GenerateSerializer, Alias("huginn.blob-put-outcome")]
public enum BlobPutOutcome
{
    Stored = 0,
    AlreadyStored = 1,
    /// <summary>The bytes do not hash to the key.</summary>
    DigestMismatch = 2,
    TooLarge = 3,
}
