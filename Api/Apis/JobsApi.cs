using Huginn.Api.Access;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;

namespace Huginn.Api.Apis;

public sealed record SubmitJobRequest(JobSpec? Spec, decimal? MaxHu);
public sealed record EstimateResponse(decimal Hu, decimal Eur, int Shards, double AuditFraction, EstimateBreakdown Breakdown);
public sealed record EstimateBreakdown(decimal WorkHu, decimal AuditHu, decimal FeeHu);
public sealed record SubmitJobResponse(string JobId, EstimateResponse Estimate);
public sealed record JobProgressResponse(int ShardsTotal, int ShardsDone, int ShardsVerified, int Round, int Rounds);
public sealed record JobMetrics(double[] Loss);
public sealed record JobResponse(
    string JobId, string State, JobProgressResponse Progress, decimal EscrowHu, decimal SpentHu, decimal RefundedHu,
    JobMetrics Metrics, string[] DevicesCaught, string? FailureReason, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

public static class JobsApi
{
    public static RouteGroupBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1/jobs").WithTags("Jobs").RequireAccount();
        jobs.MapPost("/", SubmitAsync).WithName("SubmitJob").WithSummary("Escrows the budget and queues the job.");
        jobs.MapGet("/{jobId}", GetAsync).WithName("GetJob").WithSummary("A job's state, progress, money and metrics (owner only).");
        jobs.MapGet("/{jobId}/result", ResultAsync).WithName("GetJobResult").WithSummary("The result of a completed job (owner only).");
        jobs.MapDelete("/{jobId}", CancelAsync).WithName("CancelJob").WithSummary("Cancels the job and refunds the unspent escrow.");
        return jobs;
    }

    private static async Task<IResult> SubmitAsync(SubmitJobRequest request, HttpContext context, IGrainFactory grains)
    {
        if (request.Spec is null) return Problems.Invalid("spec", "is required");
        if (request.MaxHu is <= 0) return Problems.Invalid("maxHu", "must be positive");
        var caller = context.Caller();
        var jobId = $"job_{Guid.NewGuid():N}";
        var maxMicroHu = request.MaxHu is { } hu ? MicroHu.FromHu(hu) : (long?)null;
        var result = await grains.GetGrain<IJobGrain>(jobId).SubmitAsync(new JobSubmission(caller.AccountId, request.Spec, maxMicroHu));
        return result.Refusal switch
        {
            JobRefusal.None => Results.Accepted($"/v1/jobs/{jobId}", new SubmitJobResponse(jobId, Describe(result.Job!.Estimate))),
            JobRefusal.InsufficientBalance => Results.Problem(title: "insufficient balance",
                detail: string.Join("; ", result.Errors.Select(e => e.Reason)), statusCode: StatusCodes.Status402PaymentRequired),
            _ => Problems.Invalid(result.Errors),
        };
    }

    private static async Task<IResult> GetAsync(string jobId, HttpContext context, IGrainFactory grains)
    {
        var (job, problem) = await OwnedJobAsync(jobId, context, grains);
        return problem ?? Results.Ok(Describe(job!));
    }

    private static async Task<IResult> ResultAsync(string jobId, HttpContext context, IGrainFactory grains)
    {
        var (job, problem) = await OwnedJobAsync(jobId, context, grains);
        if (problem is not null) return problem;
        var result = await grains.GetGrain<IJobGrain>(jobId).GetResultAsync();
        if (result is null) return Problems.Conflict($"the job is {StateOf(job!.Status)}; its result exists once it has completed");
        // Train: the final weights, infer: the outputs (both float32 little-endian, registry layout order); prep: the bytes.
        var bytes = result.Kind == WorkloadKind.Prep ? result.Bytes : WeightsFormat.ToBytes(result.Values);
        context.Response.Headers["Huginn-Result-Kind"] = result.Kind.ToString().ToLowerInvariant();
        return Results.Bytes(bytes, "application/octet-stream");
    }

    private static async Task<IResult> CancelAsync(string jobId, HttpContext context, IGrainFactory grains)
    {
        var (_, problem) = await OwnedJobAsync(jobId, context, grains);
        if (problem is not null) return problem;
        return Results.Ok(Describe((await grains.GetGrain<IJobGrain>(jobId).CancelAsync())!));
    }

    private static async Task<(JobView? Job, IResult? Problem)> OwnedJobAsync(string jobId, HttpContext context, IGrainFactory grains)
    {
        var job = await grains.GetGrain<IJobGrain>(jobId).GetAsync();
        if (job is null) return (null, Problems.NotFound("job"));
        if (job.OwnerAccountId != context.Caller().AccountId) return (null, Problems.Forbidden("this job belongs to another account"));
        return (job, null);
    }

    public static string StateOf(JobStatus status) => status switch
    {
        JobStatus.Funding or JobStatus.Queued => "queued",
        JobStatus.Running => "running",
        JobStatus.Completed => "completed",
        JobStatus.Failed => "failed",
        _ => "cancelled",
    };

    public static EstimateResponse Describe(CostEstimate e) => new(
        MicroHu.ToHu(e.TotalMicroHu), e.Eur, e.Shards, e.AuditFraction,
        new EstimateBreakdown(MicroHu.ToHu(e.WorkMicroHu), MicroHu.ToHu(e.AuditMicroHu), MicroHu.ToHu(e.FeeMicroHu)));

    public static JobResponse Describe(JobView job) => new(
        job.JobId, StateOf(job.Status),
        new JobProgressResponse(job.Progress.ShardsTotal, job.Progress.ShardsDone, job.Progress.ShardsVerified, job.Progress.Round, job.Progress.Rounds),
        MicroHu.ToHu(job.EscrowMicroHu), MicroHu.ToHu(job.SpentMicroHu), MicroHu.ToHu(job.RefundedMicroHu),
        new JobMetrics(job.RoundLosses), job.DevicesCaught, job.FailureReason, job.CreatedAt, job.FinishedAt);
}
