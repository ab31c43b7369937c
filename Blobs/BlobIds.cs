namespace Huginn.Blobs;

public static class BlobIds
{
    /// <summary>64 lowercase hex characters: what a SHA-256 blob id looks like (and all a file name may be made of).</summary>
    public static bool IsValid(string? value) =>
        value is { Length: 64 } && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    internal static void Check(string blobId)
    {
        if (!IsValid(blobId)) throw new ArgumentException($"'{blobId}' is not a blob id (64 lowercase hex characters).", nameof(blobId));
    }

    internal static void CheckHolder(string holder)
    {
        if (string.IsNullOrEmpty(holder) || holder.Length > MaxHolderLength)
            throw new ArgumentException($"A holder is 1 to {MaxHolderLength} characters, like 'job:{{jobId}}'.", nameof(holder));
    }

    /// <summary>Longest holder name ("job:{jobId}", "account:{accountId}").</summary>
    public const int MaxHolderLength = 200;
}
