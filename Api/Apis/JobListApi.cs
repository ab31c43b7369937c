using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Huginn.Api.Access;
using Huginn.Api.Hosting;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;
using Microsoft.Extensions.Primitives;

namespace Huginn.Api.Apis;

/// <summary>One job of a listing: what a table of jobs shows, without the spec, the money detail or the metrics.</summary>
public sealed record JobSummaryResponse(
    string JobId, string Kind, string State, JobProgressResponse Progress, decimal EstimatedHu, decimal? ActualHu,
    DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

/// <summary>A page of jobs, newest first; <c>cursor</c> continues with the next page (null: this was the last).</summary>
public sealed record JobListResponse(JobSummaryResponse[] Jobs, string? Cursor);

/// <summary>GET /v1/jobs: the caller's own jobs, newest first, by state, a page at a time.</summary>
public static class JobListApi
{
    public const int DefaultLimit = 50, MaxLimit = 200;

    public static readonly string[] States = ["queued", "running", "completed", "failed", "cancelled"];

    public static RouteGroupBuilder MapJobListApi(this RouteGroupBuilder jobs)
    {
        jobs.MapGet("/", ListAsync).WithName("ListJobs")
            .WithSummary("The caller's jobs, newest first: ?state= (repeatable or comma-separated), ?limit= (1-200, default 50), ?cursor= from the previous page.")
            .Produces<JobListResponse>().ProducesValidationProblem()
            .WithQueryValues("state", "queued", "running", "completed", "failed", "cancelled");
        return jobs;
    }

    private static async Task<IResult> ListAsync(HttpContext context, IGrainFactory grains)
    {
        var query = context.Request.Query;
        var errors = new List<SpecError>();
        var states = ParseStates(query["state"], errors);
        var limit = DefaultLimit;
        if (query["limit"] is { Count: > 0 } limitText
            && (limitText.Count > 1 || !int.TryParse(limitText[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
            errors.Add(new SpecError("limit", $"must be one whole number from 1 to {MaxLimit}"));
        long? before = null;
        if (query["cursor"] is { Count: > 0 } cursorText)
        {
            before = cursorText.Count == 1 ? DecodeCursor(cursorText[0]) : null;
            if (before is null) errors.Add(new SpecError("cursor", "is not a cursor this API returned: pass the previous page's 'cursor' unchanged"));
        }
        if (errors.Count > 0) return Problems.Invalid(errors);

        var owner = context.Caller().AccountId;
        var page = await grains.GetGrain<IOwnerJobsGrain>(owner).ListAsync(new OwnedJobQuery(states, limit, before));
        // A page's jobs are asked for their progress side by side: a page costs at most `limit` calls.
        var views = await Task.WhenAll(page.Jobs.Select(j => grains.GetGrain<IJobGrain>(j.JobId).GetAsync()));
        var items = views
            .Where(v => v is not null && v.OwnerAccountId == owner)
            // The index may lag a change of state by one report (it catches up when the job next activates); the
            // job's own state decides, so that a listing by state never shows a job in another state.
            .Where(v => states.Length == 0 || states.Contains(v!.Status))
            .Select(v => Summarize(v!))
            .ToArray();
        return Results.Ok(new JobListResponse(items, page.Next is { } next ? EncodeCursor(next) : null));
    }

    private static JobStatus[] ParseStates(StringValues values, List<SpecError> errors)
    {
        var states = new HashSet<JobStatus>();
        foreach (var name in values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            switch (name.ToLowerInvariant())
            {
                case "queued": states.Add(JobStatus.Funding); states.Add(JobStatus.Queued); break;
                case "running": states.Add(JobStatus.Running); break;
                case "completed": states.Add(JobStatus.Completed); break;
                case "failed": states.Add(JobStatus.Failed); break;
                case "cancelled": states.Add(JobStatus.Cancelled); break;
                default: errors.Add(new SpecError("state", $"'{Truncate(name)}' is not a state: use {string.Join(", ", States)}")); break;
            }
        }
        return [.. states];
    }

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>Opaque to clients; versioned so that the index may change what a cursor holds.</summary>
    private static string EncodeCursor(long sequence) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes($"j1:{sequence.ToString(CultureInfo.InvariantCulture)}"));

    private static long? DecodeCursor(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor) || cursor.Length > 64) return null;
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(cursor);
        }
        catch (FormatException)
        {
            return null;
        }
        var text = Encoding.ASCII.GetString(bytes);
        return text.StartsWith("j1:", StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && sequence > 0
            ? sequence : null;
    }

    public static JobSummaryResponse Summarize(JobView job) => new(
        job.JobId, job.Spec.Kind.ToString().ToLowerInvariant(), JobsApi.StateOf(job.Status),
        new JobProgressResponse(job.Progress.ShardsTotal, job.Progress.ShardsDone, job.Progress.ShardsVerified, job.Progress.Round, job.Progress.Rounds),
        MicroHu.ToHu(job.Estimate.TotalMicroHu), job.IsFinished ? MicroHu.ToHu(job.SpentMicroHu) : null, job.CreatedAt, job.FinishedAt);
}
