using System.Buffers;
using System.Runtime.InteropServices;

namespace Huginn.Workloads;

/// <summary>
/// Streaming arithmetic over float32 tensors as they lie in the blob store (little-endian values, no header), in
/// pieces of <see cref="ChunkBytes"/>: the coordinator compares, checks and sums model-sized results without ever
/// holding one whole in memory or in a grain message.
/// </summary>
public static class F32Streams
{
    /// <summary>Bytes read at a time: large enough that the per-read cost vanishes, small enough to stay in cache.</summary>
    public const int ChunkBytes = 1 << 20;

    static F32Streams()
    {
        // The values are reinterpreted in place (no per-value decode), which is right only on little-endian hosts.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("float32 blobs are little-endian; this host is not");
    }

    /// <summary>
    /// <see cref="TensorComparison.RelativeL2"/> of two streams: ||a − b|| / max(||a||, ||b||) in double; +Infinity when
    /// their lengths differ, a length is not whole float32 values, or any value is NaN or infinite.
    /// </summary>
    public static async Task<double> RelativeL2Async(Stream a, Stream b, CancellationToken cancellationToken = default)
    {
        var bufferA = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        var bufferB = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            double difference = 0, normA = 0, normB = 0;
            while (true)
            {
                var readA = await ReadFullAsync(a, bufferA, cancellationToken);
                var readB = await ReadFullAsync(b, bufferB, cancellationToken);
                if (readA != readB || readA % sizeof(float) != 0) return double.PositiveInfinity;
                if (readA == 0) break;
                if (!Accumulate(MemoryMarshal.Cast<byte, float>(bufferA.AsSpan(0, readA)), MemoryMarshal.Cast<byte, float>(bufferB.AsSpan(0, readB)),
                        ref difference, ref normA, ref normB))
                    return double.PositiveInfinity;
            }
            if (difference == 0) return 0;
            return Math.Sqrt(difference) / Math.Sqrt(Math.Max(normA, normB));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bufferA);
            ArrayPool<byte>.Shared.Return(bufferB);
        }
    }

    /// <summary>Whether every float32 value in these little-endian bytes is finite (no NaN, no infinity).</summary>
    public static bool AllFinite(ReadOnlySpan<byte> values)
    {
        foreach (var v in MemoryMarshal.Cast<byte, float>(values))
        {
            if (!float.IsFinite(v)) return false;
        }
        return true;
    }

    /// <summary>Whether the stream holds exactly <paramref name="values"/> float32 values, every one finite.</summary>
    public static async Task<bool> IsFiniteTensorAsync(Stream stream, long values, CancellationToken cancellationToken = default)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            long seen = 0;
            while (true)
            {
                var read = await ReadFullAsync(stream, buffer, cancellationToken);
                if (read == 0) return seen == values;
                if (read % sizeof(float) != 0 || !AllFinite(buffer.AsSpan(0, read))) return false;
                seen += read / sizeof(float);
                if (seen > values) return false;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>sums[i] += scale · delta[i] for the stream's float32 values; false (sums partly changed) when the length is wrong.</summary>
    public static async Task<bool> AddScaledAsync(Stream delta, double[] sums, double scale, CancellationToken cancellationToken = default)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var offset = 0;
            while (true)
            {
                var read = await ReadFullAsync(delta, buffer, cancellationToken);
                if (read == 0) return offset == sums.Length;
                if (read % sizeof(float) != 0) return false;
                var values = MemoryMarshal.Cast<byte, float>(buffer.AsSpan(0, read));
                if (offset + values.Length > sums.Length) return false;
                for (var i = 0; i < values.Length; i++) sums[offset + i] += scale * values[i];
                offset += values.Length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The stream's float32 values; throws when it does not hold exactly <paramref name="values"/> of them.</summary>
    public static async Task<float[]> ReadAllAsync(Stream stream, long values, CancellationToken cancellationToken = default)
    {
        var result = new float[values];
        var bytes = MemoryMarshal.AsBytes(result.AsSpan()).Length;
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var offset = 0;
            while (true)
            {
                var read = await ReadFullAsync(stream, buffer, cancellationToken);
                if (read == 0) break;
                if (offset + read > bytes) throw new InvalidDataException($"the tensor holds more than {values} float32 values");
                buffer.AsSpan(0, read).CopyTo(MemoryMarshal.AsBytes(result.AsSpan())[offset..]);
                offset += read;
            }
            if (offset != bytes) throw new InvalidDataException($"the tensor holds {offset} bytes; {values} float32 values take {bytes}");
            return result;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The values as a read-only stream of their little-endian bytes, without copying them.</summary>
    public static Stream AsStream(float[] values) => new FloatArrayStream(values);

    private sealed class FloatArrayStream(float[] values) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => (long)values.Length * sizeof(float);

        public override long Position
        {
            get => _position;
            set => _position = Math.Clamp(value, 0, Length);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var available = (int)Math.Min(buffer.Length, Length - _position);
            if (available <= 0) return 0;
            MemoryMarshal.AsBytes(values.AsSpan()).Slice((int)_position, available).CopyTo(buffer);
            _position += available;
            return available;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer, offset, count));

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static bool Accumulate(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ref double difference, ref double normA, ref double normB)
    {
        for (var i = 0; i < a.Length; i++)
        {
            double x = a[i], y = b[i];
            if (!double.IsFinite(x) || !double.IsFinite(y)) return false;
            difference += (x - y) * (x - y);
            normA += x * x;
            normB += y * y;
        }
        return true;
    }

    /// <summary>Fills the buffer unless the stream ends first; 0 at the end.</summary>
    private static async Task<int> ReadFullAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        var length = Math.Min(buffer.Length, ChunkBytes);
        while (total < length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(total, length - total), cancellationToken);
            if (read == 0) break;
            total += read;
        }
        return total;
    }
}
