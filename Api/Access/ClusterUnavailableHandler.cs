using Microsoft.AspNetCore.Diagnostics;

namespace Huginn.Api.Access;

/// <summary>
/// While the cluster fails over (a silo died and is not yet declared dead), grain calls are rejected or time out.
/// That is a 503 with Retry-After for the client, not a 500: nothing was lost, the request can be retried.
/// </summary>
public sealed class ClusterUnavailableHandler(ILogger<ClusterUnavailableHandler> logger) : IExceptionHandler
{
    public static bool IsTransient(Exception exception) =>
        exception is TimeoutException or OrleansMessageRejectionException or SiloUnavailableException;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsTransient(exception) || context.Response.HasStarted) return false;
        logger.LogWarning("Cluster unavailable for {Path}: {Error}", context.Request.Path, exception.Message);
        context.Response.Headers.RetryAfter = "5";
        await Results.Problem(title: "temporarily unavailable", detail: "the pool is failing over; retry in a few seconds",
            statusCode: StatusCodes.Status503ServiceUnavailable).ExecuteAsync(context);
        return true;
    }
}
