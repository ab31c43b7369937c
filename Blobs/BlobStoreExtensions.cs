namespace Huginn.Blobs;

public static class BlobStoreExtensions
{
    /// <summary>Stores bytes already in memory, held by <paramref name="holder"/>; see <see cref="IBlobStore.PutHeldAsync"/>.</summary>
    public static Task<BlobPutResult> PutHeldAsync(this IBlobStore store, ReadOnlyMemory<byte> bytes, string holder, CancellationToken cancellationToken = default) =>
        store.PutHeldAsync(new ReadOnlyMemoryStream(bytes), holder, cancellationToken);

    /// <summary>Stores bytes already in memory (round weights); see <see cref="IBlobStore.PutAsync"/>.</summary>
    public static Task<BlobPutResult> PutAsync(this IBlobStore store, ReadOnlyMemory<byte> bytes, string? expectedBlobId = null,
        CancellationToken cancellationToken = default) =>
        store.PutAsync(new ReadOnlyMemoryStream(bytes), expectedBlobId, cancellationToken);

    /// <summary>The whole blob in one array, null when absent. For blobs a caller needs whole anyway (weights).</summary>
    public static async Task<byte[]?> ReadAllBytesAsync(this IBlobStore store, string blobId, CancellationToken cancellationToken = default)
    {
        await using var stream = await store.OpenReadAsync(blobId, cancellationToken);
        if (stream is null) return null;
        var bytes = new byte[stream.Length];
        await stream.ReadExactlyAsync(bytes, cancellationToken);
        return bytes;
    }

    /// <summary>A read-only view of memory as a stream, without copying it (MemoryStream needs an array).</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> bytes) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => bytes.Length;

        public override long Position
        {
            get => _position;
            set => _position = (int)Math.Clamp(value, 0, bytes.Length);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, bytes.Length - _position);
            bytes.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => bytes.Length + offset,
        };

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
