using System.Threading.RateLimiting;
using Huginn.Api.Hosting;
using Microsoft.Extensions.Options;

namespace Huginn.Api.Access;

/// <summary>
/// Throttles failed authentication per client address. The request rate limiter partitions by key, so a different
/// random key per request was a fresh partition every time (3,000 × 401, never 429: issue 12, finding 7), and every
/// one of them cost a credential lookup in the cluster. Once an address has spent its failures, every authentication
/// from it is answered 429 before any lookup, until its bucket refills.
/// </summary>
public sealed class FailedAuthentications : IDisposable
{
    private readonly PartitionedRateLimiter<string> _failures;
    private readonly TimeSpan _refill;

    public FailedAuthentications(IOptions<ApiOptions> options)
    {
        var o = options.Value;
        _refill = TimeSpan.FromSeconds(60.0 / Math.Max(1, o.FailedAuthPerMinute));
        _failures = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(1, o.FailedAuthBurst),
            TokensPerPeriod = 1,
            ReplenishmentPeriod = _refill,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    private static string AddressOf(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>True when this address has no failures left; <paramref name="retryAfter"/> says when one comes back.</summary>
    public bool IsBlocked(HttpContext context, out TimeSpan retryAfter)
    {
        retryAfter = _refill;
        return _failures.GetStatistics(AddressOf(context))?.CurrentAvailablePermits is <= 0;
    }

    /// <summary>Counts a failed authentication of this address.</summary>
    public void Record(HttpContext context)
    {
        using var _ = _failures.AttemptAcquire(AddressOf(context));
    }

    /// <summary>The 429 answered to a blocked address.</summary>
    public static IResult TooMany(HttpContext context, TimeSpan retryAfter)
    {
        // After a WebSocket upgrade (a token in the hello) the headers are gone; the close reason says it instead.
        if (!context.Response.HasStarted) context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
        return Results.Problem(title: "rate limited",
            detail: "too many failed authentications from this address; wait before trying again", statusCode: StatusCodes.Status429TooManyRequests);
    }

    public void Dispose() => _failures.Dispose();
}
