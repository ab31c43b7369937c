using Huginn.Blobs;

namespace Huginn.Api.Apis;

/// <summary>
/// A finalized dataset's chunks read as the one file they were cut from, chunk after chunk from the blob store, one
/// chunk open at a time. Seekable, because a safetensors file's tensors are copied in the model's layout order, which
/// need not be the file's: a seek within the open chunk moves in it (or skips forward), one elsewhere opens that chunk.
/// </summary>
/// <param name="chunkIds">The chunks' blob ids in order; every chunk but the last holds <paramref name="chunkBytes"/>.</param>
public sealed class DatasetChunksStream(IBlobStore store, IReadOnlyList<string> chunkIds, long chunkBytes, long totalBytes) : Stream
{
    private Stream? _chunk;
    private int _chunkIndex = -1;
    private long _chunkPosition;
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => totalBytes;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => totalBytes + offset,
    };

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= totalBytes || buffer.Length == 0) return 0;
        var index = (int)(_position / chunkBytes);
        var within = _position - (long)index * chunkBytes;
        var chunk = await ChunkAtAsync(index, within, cancellationToken);
        var wanted = (int)Math.Min(buffer.Length, Math.Min(chunkBytes - within, totalBytes - _position));
        var read = await chunk.ReadAsync(buffer[..wanted], cancellationToken);
        if (read == 0) throw new DatasetChunkMissingException($"chunk {index} ({chunkIds[index]}) ended at byte {within}; it should hold more");
        _chunkPosition += read;
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Callers here read asynchronously (the blob store's PutAsync, ReadHeaderAsync); a synchronous read waits on it.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>Chunk <paramref name="index"/>, open at byte <paramref name="within"/> of it.</summary>
    private async Task<Stream> ChunkAtAsync(int index, long within, CancellationToken cancellationToken)
    {
        if (_chunk is not null && _chunkIndex == index && _chunkPosition != within && _chunk.CanSeek)
        {
            _chunk.Position = within;
            _chunkPosition = within;
        }
        if (_chunk is null || _chunkIndex != index || _chunkPosition > within)
        {
            if (_chunk is not null) await _chunk.DisposeAsync();
            _chunk = await store.OpenReadAsync(chunkIds[index], cancellationToken)
                ?? throw new DatasetChunkMissingException($"chunk {index} ({chunkIds[index]}) is no longer stored; upload it again");
            _chunkIndex = index;
            _chunkPosition = 0;
        }
        if (_chunkPosition < within)
        {
            // A store stream that cannot seek: skip forward, bounded by the chunk's size.
            var skip = new byte[(int)Math.Min(64 * 1024, within - _chunkPosition)];
            while (_chunkPosition < within)
            {
                var read = await _chunk.ReadAsync(skip.AsMemory(0, (int)Math.Min(skip.Length, within - _chunkPosition)), cancellationToken);
                if (read == 0) throw new DatasetChunkMissingException($"chunk {index} ({chunkIds[index]}) ended at byte {_chunkPosition}; it should hold more");
                _chunkPosition += read;
            }
        }
        return _chunk;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _chunk?.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_chunk is not null) await _chunk.DisposeAsync();
        _chunk = null;
        await base.DisposeAsync();
    }
}

/// <summary>A dataset's chunk could not be read whole from the blob store.</summary>
public sealed class DatasetChunkMissingException(string message) : IOException(message);
