using System.Net;

namespace Huginn.Cli.Http;

/// <summary>
/// Follows GET /v1/jobs/{id}/events to the final "state" event. A dropped stream is reopened (the server then
/// replays the job's progress, rounds and catches from the start, so observers dedupe what they keep).
/// </summary>
public sealed class JobEvents(HuginnClient client, string jobId)
{
    public const int Reconnects = 3;
    public const string State = "state";

    /// <summary>Calls <paramref name="onEvent"/> for each event; returns the final job, the "state" event's data.</summary>
    public async Task<ApiResponse> FollowAsync(Action<ServerSentEvent> onEvent, CancellationToken cancellationToken)
    {
        var path = $"v1/jobs/{Uri.EscapeDataString(jobId)}/events";
        var failures = 0;
        while (true)
        {
            string reason;
            try
            {
                using var response = await client.OpenAsync(path, cancellationToken);
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                await foreach (var e in ServerSentEvents.ReadAsync(stream, cancellationToken))
                {
                    onEvent(e);
                    if (e.Name == State) return new ApiResponse(HttpStatusCode.OK, e.Data);
                    failures = 0;
                }
                reason = "the stream ended before the job finished";
            }
            catch (Exception ex) when (HuginnClient.IsTransportFailure(ex, cancellationToken))
            {
                reason = ex.Message;
            }
            catch (CliException ex) when (ex.ExitCode == ExitCodes.Unavailable)
            {
                reason = string.Join("; ", [ex.Message, .. ex.Details]);
            }
            if (++failures > Reconnects)
                throw new CliException(ExitCodes.Unavailable, $"lost the event stream of {jobId}", [reason, $"the job goes on: huginn follow {jobId}"]);
            await Task.Delay(TimeSpan.FromSeconds(failures), cancellationToken);
        }
    }
}
