namespace Huginn.Grains.Interfaces.Access;

/// <summary>
/// A secret (account API key or device token) known only by its SHA-256: the key of this grain is
/// "{kind}:{sha256 hex of the secret}". The secret itself is shown once and never stored.
/// </summary>
[Alias("huginn.ICredentialGrain")]
public interface ICredentialGrain : IGrainWithStringKey
{
    /// <summary>Binds the credential to its subject; refused (false) if it is already bound to something else.</summary>
    [Alias("issue")]
    Task<bool> IssueAsync(Credential credential);

    /// <summary>The subject, or null for an unknown or revoked credential.</summary>
    [Alias("resolve")]
    Task<Credential?> ResolveAsync();

    [Alias("revoke")]
    Task RevokeAsync();
}

[GenerateSerializer, Alias("huginn.credential-kind")]
public enum CredentialKind
{
    ApiKey = 0,
    DeviceToken = 1,
}

/// <summary>What a credential opens: an account (with its role) or one device of an owner.</summary>
[GenerateSerializer, Immutable, Alias("huginn.credential")]
public sealed record Credential(
    [property: Id(0)] CredentialKind Kind,
    [property: Id(1)] string AccountId,
    [property: Id(2)] string Role,
    [property: Id(3)] string? DeviceId);

public static class Credentials
{
    public static string GrainKey(CredentialKind kind, string secret)
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));
        return $"{(kind == CredentialKind.ApiKey ? "key" : "device")}:{hash}";
    }

    /// <summary>A fresh secret: 32 random bytes, URL-safe, with a prefix that says what it is.</summary>
    public static string NewSecret(CredentialKind kind) =>
        (kind == CredentialKind.ApiKey ? "hk_" : "hd_") + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
