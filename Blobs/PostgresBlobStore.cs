using Npgsql;
using NpgsqlTypes;

namespace Huginn.Blobs;

/// <summary>
/// Blobs in PostgreSQL (tables <c>huginn_blob</c>, <c>huginn_blob_chunk</c>, <c>huginn_blob_reference</c>; the silo's
/// migration 0006 creates them), in chunks of <c>Huginn:Blobs:ChunkBytes</c>. Every silo and Api of a durable
/// pool reaches the same blobs through the database they already share. A put writes its chunks as they
/// arrive and names them in the same transaction once the digest is known; a reader fetches one chunk at a time.
/// </summary>
public sealed class PostgresBlobStore : IBlobStore, IAsyncDisposable, IDisposable
{
    /// <summary>Transaction-scoped advisory lock under which puts commit one at a time ("Huginn", 2; the migrator's is 1).</summary>
    public const long CommitLockKey = 0x4875_6769_6E6E_0002;

    private const int CollectBatch = 100;

    private readonly NpgsqlDataSource _dataSource;
    private readonly int _chunkBytes;
    private readonly TimeProvider _time;

    public PostgresBlobStore(string connectionString, long maxBlobBytes, long? quotaBytes = null, int chunkBytes = 1024 * 1024, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkBytes);
        _dataSource = NpgsqlDataSource.Create(connectionString);
        MaxBlobBytes = maxBlobBytes;
        QuotaBytes = quotaBytes;
        _chunkBytes = chunkBytes;
        _time = time ?? TimeProvider.System;
    }

    public PostgresBlobStore(string connectionString, BlobStoreOptions options, TimeProvider? time = null)
        : this(connectionString, options.DurableMaxBlobBytes, options.QuotaBytes, options.ChunkBytes, time) { }

    public long MaxBlobBytes { get; }

    public long? QuotaBytes { get; }

    public Task<BlobPutResult> PutAsync(Stream content, string? expectedBlobId = null, CancellationToken cancellationToken = default) =>
        PutAsync(content, expectedBlobId, holder: null, cancellationToken);

    /// <summary>The put and the holder's reference in one transaction: one commit for a shard's result, not two.</summary>
    public Task<BlobPutResult> PutHeldAsync(Stream content, string holder, CancellationToken cancellationToken = default)
    {
        BlobIds.CheckHolder(holder);
        return PutAsync(content, expectedBlobId: null, holder, cancellationToken);
    }

    private Task<BlobPutResult> PutAsync(Stream content, string? expectedBlobId, string? holder, CancellationToken cancellationToken)
    {
        // Content that can be rewound (weights from memory) is sent again after a lost connection; an upload cannot be.
        var start = content.CanSeek ? content.Position : -1;
        return PostgresRetry.RunAsync(_dataSource, ct =>
        {
            if (start >= 0) content.Position = start;
            return PutOnceAsync(content, expectedBlobId, holder, ct);
        }, cancellationToken, canRetry: () => start >= 0);
    }

    private async Task<BlobPutResult> PutOnceAsync(Stream content, string? expectedBlobId, string? holder, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        // Disposed without a commit (a refusal, a failure, a cancelled upload): every chunk written goes with it.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var contentId = Guid.NewGuid();
        await using var insert = new NpgsqlCommand(
            "INSERT INTO huginn_blob_chunk (content_id, seq, data) VALUES (@content, @seq, @data)", connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter<Guid>("content", contentId));
        var seq = new NpgsqlParameter<int>("seq", 0);
        var data = new NpgsqlParameter<ReadOnlyMemory<byte>>("data", NpgsqlDbType.Bytea);
        insert.Parameters.Add(seq);
        insert.Parameters.Add(data);
        var taken = await BlobIntake.CopyAsync(content, MaxBlobBytes, _chunkBytes, async (piece, ct) =>
        {
            data.TypedValue = piece;
            await insert.ExecuteNonQueryAsync(ct);
            seq.TypedValue++;
        }, cancellationToken);
        if (BlobIntake.Refusal(taken, expectedBlobId) is { } refused) return refused;
        var blobId = taken.BlobId!;
        var now = _time.GetUtcNow();

        if (holder is not null)
        {
            // Before the blob's row, so that the row is born referenced (and the collector never sees it unheld).
            await using var reference = new NpgsqlCommand("""
                INSERT INTO huginn_blob_reference (holder, blob_id, added_at) VALUES (@holder, @id, @now)
                ON CONFLICT (holder, blob_id) DO NOTHING
                """, connection, transaction);
            reference.Parameters.Add(new NpgsqlParameter<string>("holder", holder));
            reference.Parameters.Add(new NpgsqlParameter<string>("id", blobId));
            reference.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            await reference.ExecuteNonQueryAsync(cancellationToken);
        }

        // With a quota, puts take turns from here: the quota's sum and the insert must see each other. Without one,
        // they do not: the blob's primary key settles a race for the same bytes (below), and a global lock held over
        // each commit made every put in the pool wait for the one before it (one per fsync, row 2).
        if (QuotaBytes is not null)
        {
            await using var turn = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({CommitLockKey})", connection, transaction);
            await turn.ExecuteNonQueryAsync(cancellationToken);
        }

        // Stored already: restart its grace period if nobody holds it (the row lock also keeps the collector off it).
        await using (var touch = new NpgsqlCommand("""
            UPDATE huginn_blob SET unreferenced_since = CASE WHEN unreferenced_since IS NULL OR @held THEN NULL ELSE @now END
             WHERE blob_id = @id
            RETURNING length
            """, connection, transaction))
        {
            touch.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            touch.Parameters.Add(new NpgsqlParameter<bool>("held", holder is not null));
            touch.Parameters.Add(new NpgsqlParameter<string>("id", blobId));
            if (await touch.ExecuteScalarAsync(cancellationToken) is long storedLength)
            {
                await using var drop = new NpgsqlCommand("DELETE FROM huginn_blob_chunk WHERE content_id = @content", connection, transaction);
                drop.Parameters.Add(new NpgsqlParameter<Guid>("content", contentId));
                await drop.ExecuteNonQueryAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return new BlobPutResult(BlobPutOutcome.AlreadyStored, blobId, storedLength);
            }
        }

        if (QuotaBytes is { } quota)
        {
            await using var total = new NpgsqlCommand("SELECT coalesce(sum(length), 0)::bigint FROM huginn_blob", connection, transaction);
            if ((long)(await total.ExecuteScalarAsync(cancellationToken))! + taken.Length > quota)
                return new BlobPutResult(BlobPutOutcome.QuotaExceeded, blobId, taken.Length);
        }

        await using (var name = new NpgsqlCommand("""
            INSERT INTO huginn_blob (blob_id, content_id, length, chunk_bytes, stored_at, unreferenced_since)
            VALUES (@id, @content, @length, @chunk, @now,
                    CASE WHEN EXISTS (SELECT 1 FROM huginn_blob_reference WHERE blob_id = @id) THEN NULL ELSE @now END)
            ON CONFLICT (blob_id) DO NOTHING
            """, connection, transaction))
        {
            name.Parameters.Add(new NpgsqlParameter<string>("id", blobId));
            name.Parameters.Add(new NpgsqlParameter<Guid>("content", contentId));
            name.Parameters.Add(new NpgsqlParameter<long>("length", taken.Length));
            name.Parameters.Add(new NpgsqlParameter<int>("chunk", _chunkBytes));
            name.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", now));
            if (await name.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                // Another put of the same bytes committed between our check and our insert: theirs stands, ours goes.
                await using var drop = new NpgsqlCommand("DELETE FROM huginn_blob_chunk WHERE content_id = @content", connection, transaction);
                drop.Parameters.Add(new NpgsqlParameter<Guid>("content", contentId));
                await drop.ExecuteNonQueryAsync(cancellationToken);
                if (holder is not null)
                {
                    await using var held = new NpgsqlCommand("UPDATE huginn_blob SET unreferenced_since = NULL WHERE blob_id = @id", connection, transaction);
                    held.Parameters.Add(new NpgsqlParameter<string>("id", blobId));
                    await held.ExecuteNonQueryAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
                return new BlobPutResult(BlobPutOutcome.AlreadyStored, blobId, taken.Length);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return new BlobPutResult(BlobPutOutcome.Stored, blobId, taken.Length);
    }

    public Task<Stream?> OpenReadAsync(string blobId, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        return PostgresRetry.RunAsync(_dataSource, ct => OpenReadOnceAsync(blobId, ct), cancellationToken);
    }

    private async Task<Stream?> OpenReadOnceAsync(string blobId, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("SELECT content_id, length, chunk_bytes FROM huginn_blob WHERE blob_id = @id");
        command.Parameters.Add(new NpgsqlParameter<string>("id", blobId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return new PostgresBlobStream(_dataSource, blobId, reader.GetGuid(0), reader.GetInt64(1), reader.GetInt32(2));
    }

    public Task<long?> GetLengthAsync(string blobId, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        return PostgresRetry.RunAsync(_dataSource, async ct =>
        {
            await using var command = _dataSource.CreateCommand("SELECT length FROM huginn_blob WHERE blob_id = @id");
            command.Parameters.Add(new NpgsqlParameter<string>("id", blobId));
            return await command.ExecuteScalarAsync(ct) as long?;
        }, cancellationToken);
    }

    public Task<bool> IsHeldByAsync(string blobId, string holder, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        BlobIds.CheckHolder(holder);
        return PostgresRetry.RunAsync(_dataSource, async ct =>
        {
            await using var command = _dataSource.CreateCommand("SELECT EXISTS (SELECT 1 FROM huginn_blob_reference WHERE holder = @holder AND blob_id = @id)");
            command.Parameters.Add(new NpgsqlParameter<string>("holder", holder));
            command.Parameters.Add(new NpgsqlParameter<string>("id", blobId));
            return await command.ExecuteScalarAsync(ct) is true;
        }, cancellationToken);
    }

    public Task AddReferenceAsync(string blobId, string holder, CancellationToken cancellationToken = default)
    {
        BlobIds.Check(blobId);
        BlobIds.CheckHolder(holder);
        return PostgresRetry.RunAsync(_dataSource, ct => AddReferenceOnceAsync(blobId, holder, ct), cancellationToken);
    }

    private async Task AddReferenceOnceAsync(string blobId, string holder, CancellationToken cancellationToken)
    {
        // One batch, one implicit transaction. The update takes the blob's row lock, so a collection deciding on
        // this blob right now either finishes first or sees it referenced.
        await using var batch = _dataSource.CreateBatch();
        batch.BatchCommands.Add(Command(
            "UPDATE huginn_blob SET unreferenced_since = NULL WHERE blob_id = @id AND unreferenced_since IS NOT NULL",
            new NpgsqlParameter<string>("id", blobId)));
        batch.BatchCommands.Add(Command("""
            INSERT INTO huginn_blob_reference (holder, blob_id, added_at) VALUES (@holder, @id, @now)
            ON CONFLICT (holder, blob_id) DO NOTHING
            """,
            new NpgsqlParameter<string>("holder", holder), new NpgsqlParameter<string>("id", blobId),
            new NpgsqlParameter<DateTimeOffset>("now", _time.GetUtcNow())));
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task RemoveHolderAsync(string holder, CancellationToken cancellationToken = default)
    {
        BlobIds.CheckHolder(holder);
        return PostgresRetry.RunAsync(_dataSource, ct => RemoveHolderOnceAsync(holder, ct), cancellationToken);
    }

    private async Task RemoveHolderOnceAsync(string holder, CancellationToken cancellationToken)
    {
        // The statement's own deletes are invisible to its NOT EXISTS (one snapshot): hence "another holder".
        await using var command = _dataSource.CreateCommand("""
            WITH dropped AS (DELETE FROM huginn_blob_reference WHERE holder = @holder RETURNING blob_id)
            UPDATE huginn_blob b SET unreferenced_since = @now
             WHERE b.blob_id IN (SELECT blob_id FROM dropped)
               AND NOT EXISTS (SELECT 1 FROM huginn_blob_reference r WHERE r.blob_id = b.blob_id AND r.holder <> @holder)
            """);
        command.Parameters.Add(new NpgsqlParameter<string>("holder", holder));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("now", _time.GetUtcNow()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> CollectAsync(DateTimeOffset now, TimeSpan grace, CancellationToken cancellationToken = default)
    {
        // In batches, each its own short transaction; a blob whose row another transaction holds (a reference being
        // added, a put touching it) is skipped this time.
        var collected = 0;
        while (true)
        {
            await using var command = _dataSource.CreateCommand($"""
                WITH doomed AS (
                    SELECT blob_id FROM huginn_blob b
                     WHERE b.unreferenced_since < @cutoff
                       AND NOT EXISTS (SELECT 1 FROM huginn_blob_reference r WHERE r.blob_id = b.blob_id)
                     LIMIT {CollectBatch}
                       FOR UPDATE SKIP LOCKED),
                gone AS (DELETE FROM huginn_blob b USING doomed WHERE b.blob_id = doomed.blob_id RETURNING b.content_id),
                chunks AS (DELETE FROM huginn_blob_chunk c USING gone WHERE c.content_id = gone.content_id)
                SELECT count(*)::int FROM gone
                """);
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("cutoff", (now - grace).ToUniversalTime()));
            var batch = await PostgresRetry.RunAsync(_dataSource, async ct => (int)(await command.ExecuteScalarAsync(ct))!, cancellationToken);
            collected += batch;
            if (batch < CollectBatch) return collected;
        }
    }

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    public void Dispose() => _dataSource.Dispose();
}
