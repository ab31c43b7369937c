using System.Security.Cryptography;

namespace Huginn.Workloads;

/// <summary>Content digests: blob ids and the exact comparison of prep results.</summary>
public static class Digest
{
    /// <summary>The sha256 of the bytes as 64 lowercase hex characters.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
