using System.Security.Cryptography;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace Huginn.Blobs;

/// <summary>
/// Small held puts (a shard's result of up to one chunk) share commits: they queue, and one writer stores everything
/// queued in one transaction, then answers each. A pool settles many small results per second, and each committed
/// alone waited for its own fsync (row 2); while one commit is in flight the next batch gathers. A failed commit fails
/// every put of its batch (the callers retry as they would any put), and the writer goes on.
/// </summary>
internal sealed class PostgresSmallPuts : IAsyncDisposable
{
    private const int MaxBatch = 256;

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new() { SingleReader = true });
    private readonly Task _writer;

    private sealed record Pending(string BlobId, byte[] Bytes, string Holder, TaskCompletionSource<BlobPutResult> Done);

    public PostgresSmallPuts(NpgsqlDataSource dataSource, TimeProvider time)
    {
        (_dataSource, _time) = (dataSource, time);
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Stores the bytes (already read, at most one chunk) held by the holder; answers once committed.</summary>
    public Task<BlobPutResult> PutHeldAsync(byte[] bytes, string holder)
    {
        var pending = new Pending(Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes, holder,
            new TaskCompletionSource<BlobPutResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(PostgresSmallPuts));
        return pending.Done.Task;
    }

    private async Task WriteAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next)) batch.Add(next);
            try
            {
                var outcomes = await CommitAsync(batch);
                for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(outcomes[i]);
            }
            catch (Exception e)
            {
                _dataSource.Clear();
                foreach (var pending in batch) pending.Done.TrySetException(e);
            }
        }
    }

    private async Task<BlobPutResult[]> CommitAsync(List<Pending> batch)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var commands = new NpgsqlBatch(connection, transaction);
        var now = _time.GetUtcNow();
        var named = new int[batch.Count];
        foreach (var (pending, i) in batch.Select((p, i) => (p, i)))
        {
            var content = Guid.NewGuid();
            // The reference first, so that the blob's row is born held; the chunk only when the bytes are not stored
            // yet (by an earlier put, or earlier in this batch); the row; and a chunk no row names goes again.
            commands.BatchCommands.Add(Command("""
                INSERT INTO huginn_blob_reference (holder, blob_id, added_at) VALUES (@holder, @id, @now)
                ON CONFLICT (holder, blob_id) DO NOTHING
                """, ("holder", pending.Holder), ("id", pending.BlobId), ("now", now)));
            commands.BatchCommands.Add(Command("""
                INSERT INTO huginn_blob_chunk (content_id, seq, data)
                SELECT @content, 0, @data WHERE NOT EXISTS (SELECT 1 FROM huginn_blob WHERE blob_id = @id)
                """, ("content", content), ("data", pending.Bytes), ("id", pending.BlobId)));
            named[i] = commands.BatchCommands.Count;
            commands.BatchCommands.Add(Command("""
                INSERT INTO huginn_blob (blob_id, content_id, length, chunk_bytes, stored_at, unreferenced_since)
                VALUES (@id, @content, @length, @chunk, @now, NULL)
                ON CONFLICT (blob_id) DO UPDATE SET unreferenced_since = NULL
                RETURNING (xmax = 0) AS inserted
                """, ("id", pending.BlobId), ("content", content), ("length", (long)pending.Bytes.Length),
                ("chunk", Math.Max(1, pending.Bytes.Length)), ("now", now)));
            commands.BatchCommands.Add(Command("""
                DELETE FROM huginn_blob_chunk WHERE content_id = @content AND NOT EXISTS (SELECT 1 FROM huginn_blob WHERE content_id = @content)
                """, ("content", content)));
        }

        var outcomes = new BlobPutResult[batch.Count];
        await using (var reader = await commands.ExecuteReaderAsync())
        {
            var statement = 0;
            var item = 0;
            do
            {
                if (item < batch.Count && statement == named[item])
                {
                    var inserted = await reader.ReadAsync() && reader.GetBoolean(0);
                    outcomes[item] = new BlobPutResult(inserted ? BlobPutOutcome.Stored : BlobPutOutcome.AlreadyStored,
                        batch[item].BlobId, batch[item].Bytes.Length);
                    item++;
                }
                statement++;
            }
            while (await reader.NextResultAsync());
        }
        await transaction.CommitAsync();
        return outcomes;
    }

    private static NpgsqlBatchCommand Command(string sql, params (string Name, object Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(value switch
            {
                byte[] bytes => new NpgsqlParameter<byte[]>(name, NpgsqlDbType.Bytea) { TypedValue = bytes },
                Guid guid => new NpgsqlParameter<Guid>(name, guid),
                long number => new NpgsqlParameter<long>(name, number),
                int number => new NpgsqlParameter<int>(name, number),
                DateTimeOffset time => new NpgsqlParameter<DateTimeOffset>(name, time),
                _ => new NpgsqlParameter<string>(name, (string)value),
            });
        }
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }
}
