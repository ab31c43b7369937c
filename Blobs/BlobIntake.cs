using System.Buffers;
using System.Security.Cryptography;

namespace Huginn.Blobs;

/// <summary>How every store takes content in: piece by piece into its sink, hashed and counted as it passes.</summary>
internal static class BlobIntake
{
    /// <summary>What came in: its length, and its id, or null when it passed <c>maxBytes</c> (reading stopped there).</summary>
    internal readonly record struct Taken(long Length, string? BlobId)
    {
        public bool TooLarge => BlobId is null && Length > 0;
    }

    /// <summary>
    /// Reads <paramref name="content"/> in pieces of <paramref name="pieceBytes"/> (each full but the last, so a
    /// chunked store gets fixed-size chunks) and hands each to <paramref name="write"/>. Stops at the first
    /// piece that takes the total past <paramref name="maxBytes"/> without writing it.
    /// </summary>
    public static async Task<Taken> CopyAsync(Stream content, long maxBytes, int pieceBytes,
        Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(pieceBytes);
        try
        {
            long length = 0;
            while (true)
            {
                var read = await content.ReadAtLeastAsync(buffer.AsMemory(0, pieceBytes), pieceBytes, throwOnEndOfStream: false, cancellationToken);
                if (read == 0) break;
                length += read;
                if (length > maxBytes) return new Taken(length, null);
                hash.AppendData(buffer, 0, read);
                await write(buffer.AsMemory(0, read), cancellationToken);
                if (read < pieceBytes) break;
            }
            return new Taken(length, length == 0 ? null : Convert.ToHexStringLower(hash.GetCurrentHash()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The outcome for content read to the end, before the store looks at what it already holds.</summary>
    public static BlobPutResult? Refusal(Taken taken, string? expectedBlobId) =>
        taken.TooLarge ? new BlobPutResult(BlobPutOutcome.TooLarge, null, taken.Length)
        : taken.Length == 0 ? new BlobPutResult(BlobPutOutcome.Empty, null, 0)
        : expectedBlobId is not null && expectedBlobId != taken.BlobId ? new BlobPutResult(BlobPutOutcome.DigestMismatch, taken.BlobId, taken.Length)
        : null;
}
