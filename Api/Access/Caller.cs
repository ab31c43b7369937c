using Huginn.Grains.Interfaces.Access;
using Microsoft.Extensions.Primitives;

namespace Huginn.Api.Access;

/// <summary>Who is calling: an account (client or contributor) by API key, or a device by its token.</summary>
public sealed record Caller(Credential Credential)
{
    public string AccountId => Credential.AccountId;
    public string Role => Credential.Role;
    public bool IsDevice => Credential.Kind == CredentialKind.DeviceToken;
}

/// <summary>Resolves bearer secrets through their hashes; the secret itself is never stored or logged.</summary>
public sealed class Authenticator(IGrainFactory grains)
{
    public const string Scheme = "Bearer ";

    /// <summary>The secret from "Authorization: Bearer …", or from ?token= for browsers that cannot set headers on a WebSocket.</summary>
    public static string? SecretOf(HttpContext context, bool allowQueryToken = false)
    {
        var header = context.Request.Headers.Authorization;
        if (!StringValues.IsNullOrEmpty(header) && header.ToString().StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            return header.ToString()[Scheme.Length..].Trim();
        return allowQueryToken ? context.Request.Query["token"].FirstOrDefault() : null;
    }

    public async Task<Caller?> AuthenticateAsync(HttpContext context, bool allowQueryToken = false)
    {
        var secret = SecretOf(context, allowQueryToken);
        if (string.IsNullOrEmpty(secret) || secret.Length > 200) return null;
        var kind = secret.StartsWith("hd_", StringComparison.Ordinal) ? CredentialKind.DeviceToken : CredentialKind.ApiKey;
        var credential = await grains.GetGrain<ICredentialGrain>(Credentials.GrainKey(kind, secret)).ResolveAsync();
        return credential is null ? null : new Caller(credential);
    }
}
