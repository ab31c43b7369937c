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

/// <summary>
/// Resolves bearer secrets through their hashes; the secret itself is never stored or logged. Failed attempts count
/// against the client's address (<see cref="FailedAuthentications"/>).
/// </summary>
public sealed class Authenticator(IGrainFactory grains, FailedAuthentications failures)
{
    public const string Scheme = "Bearer ";

    /// <summary>Longer secrets are never ours (ours are 46 characters): refused without a lookup.</summary>
    public const int MaxSecretLength = 200;

    /// <summary>
    /// The secret from "Authorization: Bearer …". Never from the URL: query strings end up in request logs and proxies'
    /// access logs (issue 12, finding 10); browsers send a device token in the worker's hello frame instead.
    /// </summary>
    public static string? SecretOf(HttpContext context)
    {
        var header = context.Request.Headers.Authorization;
        if (!StringValues.IsNullOrEmpty(header) && header.ToString().StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            return header.ToString()[Scheme.Length..].Trim();
        return null;
    }

    /// <summary>The caller, or the problem to answer: 401 without a valid secret, 429 for an address that failed too often.</summary>
    public async Task<(Caller? Caller, IResult? Refusal)> AuthenticateAsync(HttpContext context)
    {
        var secret = SecretOf(context);
        if (string.IsNullOrEmpty(secret)) return (null, Problems.Unauthorized());
        return await AuthenticateAsync(context, secret);
    }

    /// <summary>As <see cref="AuthenticateAsync(HttpContext)"/> for a secret that came another way (a worker's hello).</summary>
    public async Task<(Caller? Caller, IResult? Refusal)> AuthenticateAsync(HttpContext context, string secret)
    {
        if (failures.IsBlocked(context, out var retryAfter)) return (null, FailedAuthentications.TooMany(context, retryAfter));
        var caller = secret.Length <= MaxSecretLength ? await ResolveAsync(secret) : null;
        if (caller is not null) return (caller, null);
        failures.Record(context);
        return (null, Problems.Unauthorized());
    }

    private async Task<Caller?> ResolveAsync(string secret)
    {
        var kind = secret.StartsWith("hd_", StringComparison.Ordinal) ? CredentialKind.DeviceToken : CredentialKind.ApiKey;
        var credential = await grains.GetGrain<ICredentialGrain>(Credentials.GrainKey(kind, secret)).ResolveAsync();
        return credential is null ? null : new Caller(credential);
    }
}
