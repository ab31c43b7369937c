using System.Text.Json;
using Huginn.Grains.Interfaces.Jobs;

namespace Huginn.Api.Apis;

/// <summary>
/// GET /v1/jobs/{id}/events: watches the job and sends a server-sent event for each change — "progress",
/// "round" (a round's loss), "caught" (a device outvoted), and finally "state". Polling the grain from the
/// Api keeps it working across Api instances and reconnects; the grain is never on a hot path for it.
/// </summary>
public sealed class JobEventStream(IJobGrain job, JsonSerializerOptions json)
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    public async Task RunAsync(HttpContext context, JobView first)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        var cancellationToken = context.RequestAborted;
        JobView? previous = null;
        var current = first;
        var sinceLastWrite = System.Diagnostics.Stopwatch.StartNew();
        var id = 0;
        try
        {
            while (true)
            {
                foreach (var (name, data) in Changes(previous, current))
                {
                    await context.Response.WriteAsync($"id: {++id}\nevent: {name}\ndata: {JsonSerializer.Serialize(data, json)}\n\n", cancellationToken);
                    sinceLastWrite.Restart();
                }
                if (sinceLastWrite.Elapsed > KeepAlive)
                {
                    await context.Response.WriteAsync(": keep-alive\n\n", cancellationToken);
                    sinceLastWrite.Restart();
                }
                await context.Response.Body.FlushAsync(cancellationToken);
                if (current.IsFinished) return;
                await Task.Delay(PollInterval, cancellationToken);
                previous = current;
                current = (await job.GetAsync())!;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    public static IEnumerable<(string Name, object Data)> Changes(JobView? previous, JobView current)
    {
        var response = JobsApi.Describe(current);
        if (previous is null || previous.Progress != current.Progress || previous.Status != current.Status)
            yield return ("progress", new { state = response.State, progress = response.Progress, spentHu = response.SpentHu });
        for (var round = previous?.RoundLosses.Length ?? 0; round < current.RoundLosses.Length; round++)
            yield return ("round", new { round = round + 1, loss = double.IsFinite(current.RoundLosses[round]) ? current.RoundLosses[round] : (double?)null });
        // A round's validation metrics arrive after the round itself (its evaluation runs beside the next round).
        for (var round = 0; round < current.ValidationLosses.Length; round++)
        {
            var now = current.ValidationLosses[round];
            var before = previous is not null && round < previous.ValidationLosses.Length ? previous.ValidationLosses[round] : double.NaN;
            if (!double.IsFinite(now) || double.IsFinite(before)) continue;
            var accuracy = round < current.ValidationAccuracies.Length && double.IsFinite(current.ValidationAccuracies[round]) ? current.ValidationAccuracies[round] : (double?)null;
            yield return ("validation", new { round = round + 1, loss = now, accuracy });
        }
        foreach (var device in current.DevicesCaught.Except(previous?.DevicesCaught ?? []))
            yield return ("caught", new { deviceId = device });
        if (current.IsFinished)
            yield return ("state", response);
    }
}
