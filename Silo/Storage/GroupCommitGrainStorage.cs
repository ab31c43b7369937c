using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Storage;

namespace Huginn.Silo.Storage;

/// <summary>How <see cref="GroupCommitGrainStorage"/> reaches the database and groups writes.</summary>
/// <param name="ServiceId">Keys every row, as the Orleans ServiceId keys the ADO.NET tables.</param>
/// <param name="Linger">How long the writer waits after the first queued write before committing, to gather more; zero: the writes
/// that queued while the previous commit was in flight are batch enough.</param>
/// <param name="MaxWritesPerCommit">The most writes one transaction carries; more wait for the next commit.</param>
public sealed record GroupCommitOptions(string ConnectionString, string ServiceId, TimeSpan Linger, int MaxWritesPerCommit = 1024);

/// <summary>
/// Grain storage on PostgreSQL (<c>huginn_grain_state</c>) that commits the writes of every grain of the silo together:
/// writes queue, and one writer commits all those queued in a single transaction, then completes each caller. While a
/// commit is in flight the next writes queue behind it, so the batch grows with the load and one commit's flush
/// (synchronous_commit stays on) is shared by all of them. A write is acknowledged only once its transaction committed.
/// Each write keeps Orleans' optimistic concurrency on its own: a stale etag fails that write with
/// <see cref="InconsistentStateException"/> and the others of its batch still commit.
/// </summary>
public sealed partial class GroupCommitGrainStorage : IGrainStorage, IDisposable, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly GroupCommitOptions _options;
    private readonly IGrainStorageSerializer _serializer;
    private readonly ILogger _logger;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private long _commits;
    private long _writes;

    public GroupCommitGrainStorage(GroupCommitOptions options, IGrainStorageSerializer serializer, ILogger<GroupCommitGrainStorage> logger)
    {
        _options = options;
        _serializer = serializer;
        _logger = logger;
        _dataSource = NpgsqlDataSource.Create(options.ConnectionString);
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Transactions committed (or attempted) so far.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Writes and clears carried by those transactions.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <inheritdoc/>
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT etag, payload FROM huginn_grain_state
             WHERE service_id = $1 AND grain_type = $2 AND grain_id = $3 AND state_name = $4
            """);
        AddKey(command.Parameters, stateName, grainId);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        grainState.ETag = reader.GetInt64(0).ToString(CultureInfo.InvariantCulture);
        if (reader.IsDBNull(1))
        {
            // Cleared: no state, but the etag goes on so that the next write names it.
            grainState.RecordExists = false;
            return;
        }
        grainState.State = _serializer.Deserialize<T>(new BinaryData(reader.GetFieldValue<byte[]>(1)));
        grainState.RecordExists = true;
    }

    /// <inheritdoc/>
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var payload = _serializer.Serialize(grainState.State).ToArray();
        var etag = await EnqueueAsync(new PendingWrite(stateName, grainId, ParseETag(grainState.ETag), payload));
        grainState.ETag = etag.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <inheritdoc/>
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var etag = await EnqueueAsync(new PendingWrite(stateName, grainId, ParseETag(grainState.ETag), Payload: null));
        // A clear of a state that was never written leaves nothing behind and no etag.
        grainState.ETag = etag == 0 ? null : etag.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = false;
    }

    private Task<long> EnqueueAsync(PendingWrite write)
    {
        if (!_queue.Writer.TryWrite(write))
            throw new ObjectDisposedException(nameof(GroupCommitGrainStorage), "The silo is stopping: grain state can no longer be written.");
        return write.Done.Task;
    }

    private static long? ParseETag(string? etag) =>
        etag is null ? null
        : long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value
        : throw new InconsistentStateException($"'{etag}' is not an etag of this storage.", storedEtag: "unknown", currentEtag: etag);

    private async Task WriteLoopAsync()
    {
        var batch = new List<PendingWrite>(_options.MaxWritesPerCommit);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            if (_options.Linger > TimeSpan.Zero) await Task.Delay(_options.Linger);
            while (batch.Count < _options.MaxWritesPerCommit && reader.TryRead(out var write)) batch.Add(write);
            try
            {
                await CommitAsync(batch);
            }
            catch (Exception e)
            {
                // The transaction did not commit (or we cannot know that it did): every write of it fails, its callers
                // retry as they would after any failed write, and the writer goes on with the next batch.
                LogCommitFailed(e, batch.Count);
                foreach (var write in batch) write.Done.TrySetException(e);
            }
            batch.Clear();
        }
    }

    private async Task CommitAsync(List<PendingWrite> batch)
    {
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _writes, batch.Count);
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var commands = new NpgsqlBatch(connection, transaction);
        foreach (var write in batch) commands.BatchCommands.Add(Statement(write));
        var outcomes = new long?[batch.Count];
        await using (var reader = await commands.ExecuteReaderAsync())
        {
            // One result per statement: the row's new etag, or no row when the etag it named was not the stored one.
            for (var i = 0; i < batch.Count; i++)
            {
                if (i > 0 && !await reader.NextResultAsync())
                    throw new InvalidOperationException($"The batch answered {i} results for {batch.Count} statements.");
                outcomes[i] = await reader.ReadAsync() ? reader.GetInt64(0) : null;
            }
        }
        await transaction.CommitAsync();
        for (var i = 0; i < batch.Count; i++)
        {
            var write = batch[i];
            var isBlindClear = write.Payload is null && write.ETag is null;
            if (outcomes[i] is { } etag and >= 0) write.Done.TrySetResult(etag);
            else if (isBlindClear && outcomes[i] is null) write.Done.TrySetResult(0);
            else write.Done.TrySetException(Stale(write));
        }
    }

    private static InconsistentStateException Stale(PendingWrite write)
    {
        var read = write.ETag?.ToString(CultureInfo.InvariantCulture);
        return new InconsistentStateException(
            $"State '{write.StateName}' of grain {write.GrainId} was written by someone else since it was read (etag {read ?? "none"}).",
            storedEtag: "unknown", currentEtag: read ?? "");
    }

    private NpgsqlBatchCommand Statement(PendingWrite write)
    {
        var command = new NpgsqlBatchCommand((write.Payload, write.ETag) switch
        {
            // The first write of a state: inserted with etag 1, unless a row is already there.
            ({ }, null) => """
                INSERT INTO huginn_grain_state (service_id, grain_type, grain_id, state_name, etag, payload)
                VALUES ($1, $2, $3, $4, 1, $5)
                ON CONFLICT DO NOTHING
                RETURNING etag
                """,
            ({ }, { }) => """
                UPDATE huginn_grain_state SET etag = etag + 1, payload = $5, modified_at = now()
                 WHERE service_id = $1 AND grain_type = $2 AND grain_id = $3 AND state_name = $4 AND etag = $6
                RETURNING etag
                """,
            // A clear keeps the row (payload NULL) so that its etag goes on counting.
            (null, { }) => """
                UPDATE huginn_grain_state SET etag = etag + 1, payload = NULL, modified_at = now()
                 WHERE service_id = $1 AND grain_type = $2 AND grain_id = $3 AND state_name = $4 AND etag = $6
                RETURNING etag
                """,
            // Clearing a state the grain never saw written: nothing to do when there is none (or it is cleared: its
            // etag goes on); a row holding state means someone else wrote it (-1), and the clear fails as stale.
            (null, null) => """
                SELECT CASE WHEN payload IS NULL THEN etag ELSE -1 END FROM huginn_grain_state
                 WHERE service_id = $1 AND grain_type = $2 AND grain_id = $3 AND state_name = $4
                """,
        });
        AddKey(command.Parameters, write.StateName, write.GrainId);
        command.Parameters.Add(new NpgsqlParameter<byte[]?> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = write.Payload });
        command.Parameters.Add(new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = write.ETag ?? 0 });
        return command;
    }

    private void AddKey(NpgsqlParameterCollection parameters, string stateName, GrainId grainId)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = _options.ServiceId });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = grainId.Type.ToString()! });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = grainId.Key.ToString()! });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = stateName });
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Commits what is queued, then stops the writer.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
        await _dataSource.DisposeAsync();
    }

    private sealed record PendingWrite(string StateName, GrainId GrainId, long? ETag, byte[]? Payload)
    {
        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A group commit of {Writes} grain state writes failed; each of them fails")]
    private partial void LogCommitFailed(Exception exception, int writes);
}
