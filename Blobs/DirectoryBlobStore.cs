using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Huginn.Blobs;

/// <summary>
/// Blobs as files in one folder (<c>Huginn:Blobs:Path</c>), shared by the processes of one machine (a stand-alone
/// silo and Api). Layout:
/// <code>
/// blobs/ab/abcd…   the bytes: written to tmp/, fsynced, then renamed in (atomic), never changed afterwards
/// refs/ab/abcd…    who holds the blob, or since when nobody does (JSON, replaced by an atomic rename)
/// holders/12/12…   which blobs a holder holds (JSON, named by the SHA-256 of the holder's name)
/// tmp/             uploads in flight
/// .lock            every change to refs/ and holders/, and every rename into blobs/, holds an exclusive lock on it
/// </code>
/// The lock is an OS file lock (flock on Linux), so it serializes processes as well as the stores of one process
/// and dies with its holder. File-system calls block: callers include grains, so the work runs on the thread pool.
/// </summary>
public sealed class DirectoryBlobStore : IBlobStore
{
    private const int PieceBytes = 256 * 1024;
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    private readonly string _blobs;
    private readonly string _refs;
    private readonly string _holders;
    private readonly string _tmp;
    private readonly string _lockPath;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public DirectoryBlobStore(string path, long maxBlobBytes, long? quotaBytes = null, TimeProvider? time = null)
    {
        Root = System.IO.Path.GetFullPath(path);
        MaxBlobBytes = maxBlobBytes;
        QuotaBytes = quotaBytes;
        _time = time ?? TimeProvider.System;
        _blobs = System.IO.Path.Combine(Root, "blobs");
        _refs = System.IO.Path.Combine(Root, "refs");
        _holders = System.IO.Path.Combine(Root, "holders");
        _tmp = System.IO.Path.Combine(Root, "tmp");
        _lockPath = System.IO.Path.Combine(Root, ".lock");
        foreach (var folder in new[] { _blobs, _refs, _holders, _tmp }) Directory.CreateDirectory(folder);
    }

    public DirectoryBlobStore(BlobStoreOptions options, TimeProvider? time = null)
        : this(options.Path ?? BlobStoreOptions.DefaultPath, options.DurableMaxBlobBytes, options.QuotaBytes, time) { }

    /// <summary>The store's folder, absolute.</summary>
    public string Root { get; }

    public long MaxBlobBytes { get; }

    public long? QuotaBytes { get; }

    public Task<BlobPutResult> PutAsync(Stream content, string? expectedBlobId = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => PutCoreAsync(content, expectedBlobId, cancellationToken), cancellationToken);

    private async Task<BlobPutResult> PutCoreAsync(Stream content, string? expectedBlobId, CancellationToken cancellationToken)
    {
        var temp = System.IO.Path.Combine(_tmp, $"{Guid.NewGuid():N}.part");
        try
        {
            BlobIntake.Taken taken;
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous, BufferSize = 0 };
            await using (var file = new FileStream(temp, options))
            {
                taken = await BlobIntake.CopyAsync(content, MaxBlobBytes, PieceBytes, file.WriteAsync, cancellationToken);
                if (BlobIntake.Refusal(taken, expectedBlobId) is { } refused) return refused;
                // On disk before the rename makes it visible: a crash never leaves a blob with other bytes than its name.
                file.Flush(flushToDisk: true);
            }
            var blobId = taken.BlobId!;
            var path = DataPath(blobId);
            using (await LockAsync(cancellationToken))
            {
                var existing = new FileInfo(path);
                if (existing.Exists)
                {
                    var meta = ReadMeta(blobId) ?? new Meta();
                    if (meta.Holders.Count == 0)
                    {
                        meta.UnreferencedSince = _time.GetUtcNow();
                        WriteAtomically(MetaPath(blobId), meta);
                    }
                    return new BlobPutResult(BlobPutOutcome.AlreadyStored, blobId, existing.Length);
                }
                if (QuotaBytes is { } quota && StoredBytes() + taken.Length > quota)
                    return new BlobPutResult(BlobPutOutcome.QuotaExceeded, blobId, taken.Length);
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
                File.Move(temp, path);
                var fresh = ReadMeta(blobId) ?? new Meta();
                if (fresh.Holders.Count == 0) fresh.UnreferencedSince = _time.GetUtcNow();
                WriteAtomically(MetaPath(blobId), fresh);
            }
            return new BlobPutResult(BlobPutOutcome.Stored, blobId, taken.Length);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public Task<Stream?> OpenReadAsync(string blobId, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        return Task.Run<Stream?>(() =>
        {
            try
            {
                // FileShare.Delete: the collector may delete it meanwhile; this reader keeps the bytes it opened.
                return new FileStream(DataPath(blobId), new FileStreamOptions
                {
                    Mode = FileMode.Open,
                    Access = FileAccess.Read,
                    Share = FileShare.Read | FileShare.Delete,
                    Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
                    BufferSize = 0,
                });
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }
        }, cancellationToken);
    }

    public Task<long?> GetLengthAsync(string blobId, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        return Task.Run(() =>
        {
            var file = new FileInfo(DataPath(blobId));
            return file.Exists ? file.Length : (long?)null;
        }, cancellationToken);
    }

    public Task<bool> IsHeldByAsync(string blobId, string holder, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        BlobIds.CheckHolder(holder);
        return Task.Run(() => ReadMeta(blobId)?.Holders.Contains(holder) == true, cancellationToken);
    }

    public Task AddReferenceAsync(string blobId, string holder, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        BlobIds.CheckHolder(holder);
        return Task.Run(async () =>
        {
            using var held = await LockAsync(cancellationToken);
            var meta = ReadMeta(blobId) ?? new Meta();
            if (!meta.Holders.Contains(holder))
            {
                meta.Holders.Add(holder);
                meta.UnreferencedSince = null;
                WriteAtomically(MetaPath(blobId), meta);
            }
            var index = ReadIndex(holder) ?? new HolderIndex { Holder = holder };
            if (!index.Blobs.Contains(blobId))
            {
                index.Blobs.Add(blobId);
                WriteAtomically(IndexPath(holder), index);
            }
        }, cancellationToken);
    }

    public Task RemoveHolderAsync(string holder, CancellationToken cancellationToken = default)
    {
        BlobIds.CheckHolder(holder);
        return Task.Run(async () =>
        {
            using var held = await LockAsync(cancellationToken);
            if (ReadIndex(holder) is not { } index) return;
            var now = _time.GetUtcNow();
            foreach (var blobId in index.Blobs)
            {
                if (ReadMeta(blobId) is not { } meta || !meta.Holders.Remove(holder)) continue;
                if (meta.Holders.Count == 0 && !File.Exists(DataPath(blobId)))
                {
                    File.Delete(MetaPath(blobId));
                    continue;
                }
                if (meta.Holders.Count == 0) meta.UnreferencedSince = now;
                WriteAtomically(MetaPath(blobId), meta);
            }
            File.Delete(IndexPath(holder));
        }, cancellationToken);
    }

    public Task<int> CollectAsync(DateTimeOffset now, TimeSpan grace, CancellationToken cancellationToken = default) =>
        Task.Run(async () =>
        {
            var collected = 0;
            foreach (var path in Directory.EnumerateFiles(_blobs, "*", SearchOption.AllDirectories).ToList())
            {
                var blobId = System.IO.Path.GetFileName(path);
                // A first look without the lock, so that a collection over many blobs holds it only to delete.
                if (!BlobIds.IsValid(blobId) || !Expired(blobId, path, now, grace)) continue;
                using var held = await LockAsync(cancellationToken);
                if (!Expired(blobId, path, now, grace)) continue;
                File.Delete(path);
                File.Delete(MetaPath(blobId));
                collected++;
            }
            // Uploads that died mid-way (their process was killed) leave a temp file behind.
            foreach (var temp in new DirectoryInfo(_tmp).EnumerateFiles())
            {
                if (now - new DateTimeOffset(temp.LastWriteTimeUtc, TimeSpan.Zero) > grace) temp.Delete();
            }
            return collected;
        }, cancellationToken);

    private bool Expired(string blobId, string path, DateTimeOffset now, TimeSpan grace)
    {
        // No refs file: the process died between the rename and writing it; the file's time stands in.
        var meta = ReadMeta(blobId);
        if (meta is { Holders.Count: > 0 }) return false;
        var since = meta?.UnreferencedSince ?? new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
        return now - since > grace;
    }

    /// <summary>Bytes in blobs/ now; read under the lock, so that two puts cannot both take the last room.</summary>
    private long StoredBytes() => new DirectoryInfo(_blobs).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    private string DataPath(string blobId) => System.IO.Path.Combine(_blobs, blobId[..2], blobId);

    private string MetaPath(string blobId) => System.IO.Path.Combine(_refs, blobId[..2], blobId);

    private string IndexPath(string holder)
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(holder)));
        return System.IO.Path.Combine(_holders, key[..2], key);
    }

    private Meta? ReadMeta(string blobId) => Read<Meta>(MetaPath(blobId));

    private HolderIndex? ReadIndex(string holder) => Read<HolderIndex>(IndexPath(holder));

    private static T? Read<T>(string path) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Written beside, fsynced, renamed over: a reader (in any process) sees the old file or the new one.</summary>
    private void WriteAtomically<T>(string path, T value)
    {
        var temp = System.IO.Path.Combine(_tmp, $"{Guid.NewGuid():N}.json");
        using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        {
            JsonSerializer.Serialize(file, value);
            file.Flush(flushToDisk: true);
        }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The store's lock: this instance's turn first, then the file lock that other processes (and stores) see.</summary>
    private async Task<IDisposable> LockAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var started = Stopwatch.GetTimestamp();
            var delay = 1;
            while (true)
            {
                try
                {
                    return new Held(new FileStream(_lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None), _gate);
                }
                catch (IOException e)
                {
                    // Another process (or another store on this folder) holds it, for a few small writes at a time.
                    if (Stopwatch.GetElapsedTime(started) > LockTimeout)
                        throw new TimeoutException($"The blob store's lock {_lockPath} has been held elsewhere for over {LockTimeout.TotalSeconds} s.", e);
                    await Task.Delay(delay, cancellationToken);
                    delay = Math.Min(delay * 2, 20);
                }
            }
        }
        catch
        {
            _gate.Release();
            throw;
        }
    }

    private sealed class Held(FileStream file, SemaphoreSlim gate) : IDisposable
    {
        public void Dispose()
        {
            file.Dispose();
            gate.Release();
        }
    }

    private sealed class Meta
    {
        public List<string> Holders { get; set; } = [];

        /// <summary>When it was stored or lost its last holder; null while held.</summary>
        public DateTimeOffset? UnreferencedSince { get; set; }
    }

    private sealed class HolderIndex
    {
        public string Holder { get; set; } = "";
        public List<string> Blobs { get; set; } = [];
    }
}
