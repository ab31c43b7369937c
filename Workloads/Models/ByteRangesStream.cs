namespace Huginn.Workloads;

/// <summary>
/// A read-only stream of byte ranges of a seekable source, one after the other: how a safetensors file's tensors
/// become the flat f32 weight blob in layout order while it streams into the blob store, whatever order the file
/// stored them in.
/// </summary>
public sealed class ByteRangesStream(Stream source, IReadOnlyList<(long Offset, long Bytes)> ranges, bool leaveOpen = false) : Stream
{
    private int _range;
    private long _done;
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => ranges.Sum(r => r.Bytes);
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var (wanted, start) = Next(buffer.Length);
        if (wanted == 0) return 0;
        source.Position = start;
        var read = source.Read(buffer[..wanted]);
        return Advance(read);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var (wanted, start) = Next(buffer.Length);
        if (wanted == 0) return 0;
        source.Position = start;
        var read = await source.ReadAsync(buffer[..wanted], cancellationToken);
        return Advance(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>How many bytes the next read may take from the current range, and where they start in the source.</summary>
    private (int Wanted, long Start) Next(int capacity)
    {
        while (_range < ranges.Count && _done == ranges[_range].Bytes)
        {
            _range++;
            _done = 0;
        }
        if (_range == ranges.Count || capacity == 0) return (0, 0);
        var (offset, bytes) = ranges[_range];
        return ((int)Math.Min(capacity, bytes - _done), offset + _done);
    }

    private int Advance(int read)
    {
        if (read == 0) throw new EndOfStreamException($"the source ended inside the byte range at {ranges[_range].Offset} ({ranges[_range].Bytes} bytes)");
        _done += read;
        _position += read;
        return read;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen) source.Dispose();
        base.Dispose(disposing);
    }
}
