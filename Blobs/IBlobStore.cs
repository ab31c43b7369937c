namespace Huginn.Blobs;

/// <summary>
/// Content-addressed bytes: a blob's id is the lowercase hex SHA-256 of its bytes, so whoever reads it can check
/// it and any copy is as good as another. Blobs live outside grain state; grains and the Api hold only ids.
/// A blob nobody references is deleted by <see cref="CollectAsync"/> once its grace period has passed.
/// </summary>
public interface IBlobStore
{
    /// <summary>Largest blob accepted (bytes).</summary>
    long MaxBlobBytes { get; }

    /// <summary>Total bytes the store may hold; null when only its disk or database bounds it.</summary>
    long? QuotaBytes { get; }

    /// <summary>
    /// Streams content in, hashing (SHA-256, lowercase hex = blob id) while it streams; refuses a blob over
    /// <see cref="MaxBlobBytes"/>, one whose digest differs from <paramref name="expectedBlobId"/> (when given), or
    /// one that does not fit the store's quota. Idempotent: storing stored bytes again answers AlreadyStored and
    /// restarts the grace period of a blob nobody references yet.
    /// </summary>
    Task<BlobPutResult> PutAsync(Stream content, string? expectedBlobId = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="PutAsync"/> and <see cref="AddReferenceAsync"/> at once: a stored blob is held by
    /// <paramref name="holder"/> from the moment it exists (a shard's result, held by its job). A store with
    /// transactions does both in one commit.
    /// </summary>
    async Task<BlobPutResult> PutHeldAsync(Stream content, string holder, CancellationToken cancellationToken = default)
    {
        var put = await PutAsync(content, cancellationToken: cancellationToken);
        if (put.Succeeded) await AddReferenceAsync(put.BlobId!, holder, cancellationToken);
        return put;
    }

    /// <summary>A readable, seekable stream of the blob, null when absent. Caller disposes.</summary>
    Task<Stream?> OpenReadAsync(string blobId, CancellationToken cancellationToken = default);

    /// <summary>The blob's size in bytes, null when absent.</summary>
    Task<long?> GetLengthAsync(string blobId, CancellationToken cancellationToken = default);

    /// <summary>Whether <paramref name="holder"/> holds the blob (<see cref="AddReferenceAsync"/>): who may read it is decided from this.</summary>
    Task<bool> IsHeldByAsync(string blobId, string holder, CancellationToken cancellationToken = default);

    /// <summary>Marks the blob as in use by a holder ("job:{jobId}", "account:{accountId}", ...). Idempotent.</summary>
    Task AddReferenceAsync(string blobId, string holder, CancellationToken cancellationToken = default);

    /// <summary>Drops every reference that holder has; a blob left without any starts its grace period now.</summary>
    Task RemoveHolderAsync(string holder, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes blobs that have no reference and were stored (or last lost their last reference) more than
    /// <paramref name="grace"/> before <paramref name="now"/>. Returns how many.
    /// </summary>
    Task<int> CollectAsync(DateTimeOffset now, TimeSpan grace, CancellationToken cancellationToken = default);
}

/// <summary>What a put did. <see cref="BlobId"/> is set when the bytes were read to the end (Stored, AlreadyStored,
/// DigestMismatch: the digest they really have, QuotaExceeded); <see cref="Length"/> is the bytes read.</summary>
public sealed record BlobPutResult(BlobPutOutcome Outcome, string? BlobId, long Length)
{
    /// <summary>True when the blob is in the store now.</summary>
    public bool Succeeded => Outcome is BlobPutOutcome.Stored or BlobPutOutcome.AlreadyStored;
}

public enum BlobPutOutcome
{
    Stored = 0,
    /// <summary>The same bytes were there already.</summary>
    AlreadyStored = 1,
    /// <summary>The bytes do not hash to the expected id.</summary>
    DigestMismatch = 2,
    /// <summary>Over <see cref="IBlobStore.MaxBlobBytes"/>; reading stopped soon after the limit (the rest is never read).</summary>
    TooLarge = 3,
    /// <summary>The store's quota (<see cref="IBlobStore.QuotaBytes"/>) has no room for it.</summary>
    QuotaExceeded = 4,
    /// <summary>No bytes: an empty blob is never stored.</summary>
    Empty = 5,
}
