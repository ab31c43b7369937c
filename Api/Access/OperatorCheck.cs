using System.Security.Cryptography;
using System.Text;
using Huginn.Api.Hosting;
using Microsoft.Extensions.Options;

namespace Huginn.Api.Access;

/// <summary>What the secret a request presents is, for the operator's endpoints.</summary>
public enum OperatorAccess
{
    /// <summary>The operator's key.</summary>
    Operator,
    /// <summary>No secret presented.</summary>
    None,
    /// <summary>A secret that is not the operator's key (counted as a failed authentication).</summary>
    Wrong,
    /// <summary>This address failed too often: answer 429 without comparing.</summary>
    Throttled,
}

/// <summary>Recognises the operator's secret, comparing hashes in constant time; wrong keys count against the address.</summary>
public sealed class OperatorCheck(IOptions<ApiOptions> options, FailedAuthentications failures)
{
    /// <param name="countFailure">
    /// Whether a wrong secret counts as a failed authentication: yes where only the operator's key opens the endpoint,
    /// no where the operator's key is one option among others (creating a client account in the open default).
    /// </param>
    public OperatorAccess Check(HttpContext context, bool countFailure) => Check(context, Authenticator.SecretOf(context), countFailure);

    /// <summary>As <see cref="Check(HttpContext, bool)"/>, for a secret the caller took from elsewhere than the bearer header.</summary>
    public OperatorAccess Check(HttpContext context, string? presented, bool countFailure)
    {
        if (string.IsNullOrEmpty(presented)) return OperatorAccess.None;
        if (countFailure && failures.IsBlocked(context, out _)) return OperatorAccess.Throttled;
        var configured = options.Value.OperatorKey;
        if (!string.IsNullOrEmpty(configured) && CryptographicOperations.FixedTimeEquals(
                SHA256.HashData(Encoding.UTF8.GetBytes(configured)), SHA256.HashData(Encoding.UTF8.GetBytes(presented))))
            return OperatorAccess.Operator;
        if (countFailure) failures.Record(context);
        return OperatorAccess.Wrong;
    }

    /// <summary>The refusal for an endpoint only the operator may call.</summary>
    public IResult? RefusalFor(HttpContext context, OperatorAccess access, string forbidden) => access switch
    {
        OperatorAccess.Operator => null,
        OperatorAccess.None => Problems.Unauthorized(),
        OperatorAccess.Throttled => FailedAuthentications.TooMany(context, TimeSpan.FromSeconds(60.0 / Math.Max(1, options.Value.FailedAuthPerMinute))),
        _ => Problems.Forbidden(forbidden),
    };
}
