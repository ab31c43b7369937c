namespace Huginn.Blobs;

/// <summary>
/// Blobs in this process's memory, bounded by <see cref="QuotaBytes"/> (<c>Huginn:Blobs:MemoryLimitBytes</c>).
/// For a silo and an Api in one process (the demo's local pool, test clusters): nothing survives a restart,
/// and a reader gets the stored array itself, read-only, without a copy.
/// </summary>
public sealed class MemoryBlobStore(long maxBlobBytes, long limitBytes, TimeProvider? time = null) : IBlobStore
{
    private const int PieceBytes = 64 * 1024;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Blob> _blobs = [];
    /// <summary>Holders by blob; a blob may be referenced before it is stored (and is then kept once it is).</summary>
    private readonly Dictionary<string, HashSet<string>> _holdersOf = [];
    private readonly Dictionary<string, HashSet<string>> _blobsOf = [];
    private long _bytes;

    public MemoryBlobStore(BlobStoreOptions options, TimeProvider? time = null) : this(options.MemoryMaxBlobBytes, options.MemoryLimitBytes, time) { }

    public long MaxBlobBytes => maxBlobBytes;

    public long? QuotaBytes => limitBytes;

    /// <summary>Bytes held now.</summary>
    public long StoredBytes
    {
        get { lock (_gate) return _bytes; }
    }

    public async Task<BlobPutResult> PutAsync(Stream content, string? expectedBlobId = null, CancellationToken cancellationToken = default)
    {
        var capacity = content.CanSeek ? (int)Math.Clamp(content.Length - content.Position, 0, Math.Min(maxBlobBytes, Array.MaxLength)) : 0;
        using var buffer = new MemoryStream(capacity);
        var taken = await BlobIntake.CopyAsync(content, maxBlobBytes, PieceBytes, buffer.WriteAsync, cancellationToken);
        if (BlobIntake.Refusal(taken, expectedBlobId) is { } refused) return refused;
        var blobId = taken.BlobId!;
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_blobs.TryGetValue(blobId, out var stored))
            {
                if (!_holdersOf.ContainsKey(blobId)) stored.UnreferencedSince = now;
                return new BlobPutResult(BlobPutOutcome.AlreadyStored, blobId, stored.Bytes.LongLength);
            }
            if (_bytes + taken.Length > limitBytes) return new BlobPutResult(BlobPutOutcome.QuotaExceeded, blobId, taken.Length);
            // The buffer's own array when it is exactly the blob (content of known length), else one copy.
            var bytes = buffer.TryGetBuffer(out var segment) && segment.Offset == 0 && segment.Array!.LongLength == taken.Length
                ? segment.Array
                : buffer.ToArray();
            _blobs[blobId] = new Blob(bytes) { UnreferencedSince = now };
            _bytes += bytes.LongLength;
            return new BlobPutResult(BlobPutOutcome.Stored, blobId, bytes.LongLength);
        }
    }

    public Task<Stream?> OpenReadAsync(string blobId, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        lock (_gate)
            return Task.FromResult<Stream?>(_blobs.TryGetValue(blobId, out var blob) ? new MemoryStream(blob.Bytes, writable: false) : null);
    }

    public Task<long?> GetLengthAsync(string blobId, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        lock (_gate) return Task.FromResult(_blobs.TryGetValue(blobId, out var blob) ? blob.Bytes.LongLength : (long?)null);
    }

    public Task<bool> IsHeldByAsync(string blobId, string holder, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        BlobIds.CheckHolder(holder);
        lock (_gate) return Task.FromResult(_holdersOf.TryGetValue(blobId, out var holders) && holders.Contains(holder));
    }

    public Task AddReferenceAsync(string blobId, string holder, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        BlobIds.CheckHolder(holder);
        lock (_gate)
        {
            SetOf(_holdersOf, blobId).Add(holder);
            SetOf(_blobsOf, holder).Add(blobId);
        }
        return Task.CompletedTask;
    }

    public Task RemoveHolderAsync(string holder, CancellationToken cancellationToken = default)
    {
        BlobIds.CheckHolder(holder);
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (!_blobsOf.Remove(holder, out var blobIds)) return Task.CompletedTask;
            foreach (var blobId in blobIds)
            {
                var holders = _holdersOf[blobId];
                holders.Remove(holder);
                if (holders.Count > 0) continue;
                _holdersOf.Remove(blobId);
                if (_blobs.TryGetValue(blobId, out var blob)) blob.UnreferencedSince = now;
            }
        }
        return Task.CompletedTask;
    }

    public Task<int> CollectAsync(DateTimeOffset now, TimeSpan grace, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var expired = _blobs
                .Where(b => !_holdersOf.ContainsKey(b.Key) && now - b.Value.UnreferencedSince > grace)
                .Select(b => b.Key)
                .ToList();
            foreach (var blobId in expired)
            {
                _bytes -= _blobs[blobId].Bytes.LongLength;
                _blobs.Remove(blobId);
            }
            return Task.FromResult(expired.Count);
        }
    }

    private static HashSet<string> SetOf(Dictionary<string, HashSet<string>> sets, string key)
    {
        if (!sets.TryGetValue(key, out var set)) sets[key] = set = [];
        return set;
    }

    private sealed class Blob(byte[] bytes)
    {
        public byte[] Bytes { get; } = bytes;

        /// <summary>When it was stored or last lost its last reference (or was stored again while unreferenced).</summary>
        public DateTimeOffset UnreferencedSince { get; set; }
    }
}
