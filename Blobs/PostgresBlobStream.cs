using Npgsql;

namespace Huginn.Blobs;

/// <summary>
/// One stored blob read chunk by chunk: at most one chunk in memory, each fetched on a pooled connection held only
/// for that query, so a slow reader (a worker on a thin line) ties up no connection. Seekable, so that an HTTP
/// response can announce its length and serve ranges.
/// </summary>
internal sealed class PostgresBlobStream(NpgsqlDataSource dataSource, string blobId, Guid contentId, long length, int chunkBytes) : Stream
{
    private const string ChunkQuery = "SELECT data FROM huginn_blob_chunk WHERE content_id = @content AND seq = @seq";

    private long _position;
    private int _chunkIndex = -1;
    private byte[] _chunk = [];

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= length || buffer.IsEmpty) return 0;
        var index = (int)(_position / chunkBytes);
        if (index != _chunkIndex) Loaded(index, await FetchAsync(index, cancellationToken));
        return CopyOut(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Synchronous readers are rare here (the Api and the grains read asynchronously): they wait on the same path.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    private int CopyOut(Span<byte> buffer)
    {
        var within = (int)(_position - (long)_chunkIndex * chunkBytes);
        var n = Math.Min(buffer.Length, _chunk.Length - within);
        _chunk.AsSpan(within, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    private void Loaded(int index, object? data)
    {
        var expected = (int)Math.Min(chunkBytes, length - (long)index * chunkBytes);
        if (data is not byte[] bytes) throw new IOException($"Blob {blobId} was deleted while it was being read.");
        if (bytes.Length != expected) throw new IOException($"Blob {blobId}: chunk {index} holds {bytes.Length} bytes, not {expected}.");
        (_chunkIndex, _chunk) = (index, bytes);
    }

    private Task<object?> FetchAsync(int index, CancellationToken cancellationToken) =>
        PostgresRetry.RunAsync(dataSource, async ct =>
        {
            await using var command = dataSource.CreateCommand(ChunkQuery);
            command.Parameters.Add(new NpgsqlParameter<Guid>("content", contentId));
            command.Parameters.Add(new NpgsqlParameter<int>("seq", index));
            return await command.ExecuteScalarAsync(ct);
        }, cancellationToken);

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
