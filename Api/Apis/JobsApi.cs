using Huginn.Api.Hosting;
using System.Security.Cryptography;
using System.Text.Json;
using Huginn.Api.Access;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Access;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Huginn.Api.Apis;

public sealed record SubmitJobRequest(JobSpec? Spec, decimal? MaxHu);
public sealed record EstimateResponse(decimal Hu, decimal Eur, int Shards, double AuditFraction, double EtaSeconds, EstimateBreakdown Breakdown);
public sealed record EstimateBreakdown(decimal WorkHu, decimal AuditHu, decimal FeeHu, decimal ShardPriceHu, decimal EurPerHu);
public sealed record SubmitJobResponse(string JobId, EstimateResponse Estimate);
public sealed record JobProgressResponse(int ShardsTotal, int ShardsDone, int ShardsVerified, int Round, int Rounds);
/// <summary>
/// Loss: each finished round's training loss over its verified shards; null for a round none of whose shards was audited.
/// ValidationLoss, ValidationAccuracy (a job with spec.validation; absent otherwise): one entry per round, the metrics of
/// the weights the round ended with on the validation rows; null where not evaluated yet or the evaluation failed, and
/// accuracy null for an mse model.
/// </summary>
public sealed record JobMetrics(double?[] Loss, double?[]? ValidationLoss = null, double?[]? ValidationAccuracy = null)
{
    /// <summary>NaN (not evaluated, failed, mse accuracy) is null on the wire.</summary>
    public static double?[]? Nullable(double[] values) => values.Length == 0 ? null : values.Select(v => double.IsFinite(v) ? v : (double?)null).ToArray();

    /// <summary>The rounds' losses that were measured, in round order (rounds without a verified shard left out).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public double[] VerifiedLosses => Loss.OfType<double>().ToArray();
}
public sealed record JobResponse(
    string JobId, string Kind, string State, JobProgressResponse Progress, decimal EscrowHu, decimal SpentHu, decimal RefundedHu,
    JobMetrics Metrics, string[] DevicesCaught, string? FailureReason, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt,
    decimal EstimatedHu, decimal? ActualHu, JobResultSummary? Result = null);

public static class JobsApi
{
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>A small training job, the example of the OpenAPI document.</summary>
    public const string SpecExample = """{ "kind": "train", "model": { "type": "mlp", "inputSize": 8, "hiddenSizes": [16], "outputSize": 1 }, "dataset": { "synthetic": { "kind": "teacher", "samples": 512, "seed": 7 } }, "rounds": 2, "shardsPerRound": 2, "localSteps": 4, "batchSize": 32, "learningRate": 0.05 }""";

    /// <summary>The formats of GET /v1/jobs/{id}/result; the first is the default.</summary>
    public static readonly string[] ResultFormats = ["f32", "safetensors", "torchsharp"];

    /// <summary>Bounds of maxHu: a micro-HU is the ledger's unit; far above any balance, well inside a long of micro-HU.</summary>
    public const decimal MinMaxHu = 0.000001m, MaxMaxHu = 1_000_000_000m;

    public static RouteGroupBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1/jobs").WithTags("Jobs").RequireAccount();
        jobs.MapPost("/", SubmitAsync).WithName("SubmitJob")
            .WithSummary("Escrows maxHu (or the estimate) and queues the job; an Idempotency-Key makes retries safe.")
            .Produces<SubmitJobResponse>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status402PaymentRequired)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithHeader(IdempotencyHeader, "Makes a retry safe: the same key and request return the first submission's job (202); the same key with a different request is 409.", "a3f1c2d4-retry-safe")
            .WithRequestExample("{ \"spec\": " + SpecExample + ", \"maxHu\": 5 }");
        jobs.MapGet("/{jobId}", GetAsync).WithName("GetJob").WithSummary("A job's state, progress, money and metrics (owner only).")
            .Produces<JobResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        jobs.MapGet("/{jobId}/events", EventsAsync).WithName("FollowJob")
            .WithSummary("Server-sent events: progress, round losses, verification catches, the final state (owner only).")
            .Produces<string>(StatusCodes.Status200OK, "text/event-stream").ProducesProblem(StatusCodes.Status404NotFound);
        jobs.MapGet("/{jobId}/result", ResultAsync).WithName("GetJobResult")
            .WithSummary("The result once completed (or a stopped training job's last checkpoint): ?format=f32 (default), safetensors, or torchsharp for weights; ?round=N for a training round's checkpoint (owner only).")
            .ProducesBinary("The result: f32 little-endian values in layout order, a safetensors file, or TorchSharp's weights file.",
                ("Huginn-Rounds-Completed", "How many rounds the weights hold."), ("Huginn-Result-Kind", "train, infer or prep."),
                ("Huginn-Result-Checkpoint", "final, last-completed-round (a stopped training job) or round (?round=N)."))
            .WithQueryValues("format", ResultFormats).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status410Gone);
        jobs.MapGet("/{jobId}/checkpoints", JobResults.CheckpointsAsync).WithName("ListJobCheckpoints")
            .WithSummary("A training job's checkpoints: the weights after each completed round, downloadable with ?round=N (owner only).")
            .Produces<JobCheckpointsResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        jobs.MapDelete("/{jobId}", CancelAsync).WithName("CancelJob").WithSummary("Cancels the job and refunds the unspent escrow (owner only).")
            .Produces<JobResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        return jobs;
    }

    private static async Task<IResult> SubmitAsync(SubmitJobRequest request, HttpContext context, IGrainFactory grains, IBlobStore blobs, IOptions<JsonOptions> json)
    {
        var caller = context.Caller();
        if (caller.Role != "client") return Problems.Forbidden("only client accounts submit jobs; a contributor account runs devices");
        // Every check of the input comes before the first side effect (the idempotency claim, the escrow): a refused
        // request leaves nothing behind, so the corrected retry with the same key goes through.
        if (request.Spec is null) return Problems.Invalid("spec", "is required");
        // A dataset's facts are checked here as for an estimate, and its size filled in (DatasetSpecResolver).
        var (resolvedSpec, datasetErrors) = await DatasetSpecResolver.ResolveAsync(request.Spec, caller.AccountId, grains);
        if (datasetErrors.Count > 0) return Problems.Invalid(datasetErrors);
        request = request with { Spec = resolvedSpec };
        if (request.MaxHu is { } max && (max < MinMaxHu || max > MaxMaxHu))
            return Problems.Invalid("maxHu", $"must be from {MinMaxHu} (one micro-HU) to {MaxMaxHu:#,0} HU");
        var specErrors = SpecValidator.Validate(request.Spec);
        if (specErrors.Count > 0) return Problems.Invalid(specErrors);
        var (spec, weightsErrors) = await SafetensorsIntake.ConvertAsync(request.Spec, caller, blobs, grains, context.RequestAborted);
        if (weightsErrors.Count > 0) return Problems.Invalid(weightsErrors);
        var jobId = $"job_{Guid.NewGuid():N}";
        (string Key, string Fingerprint)? claim = null;

        if (context.Request.Headers[IdempotencyHeader].FirstOrDefault() is { } key)
        {
            if (key.Length is 0 or > 200) return Problems.Invalid(IdempotencyHeader, "must be 1 to 200 characters");
            var fingerprint = Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request, json.Value.SerializerOptions)));
            var claimed = await grains.GetGrain<IIdempotencyGrain>($"{caller.AccountId}/{key}").ClaimAsync(fingerprint, jobId);
            if (claimed is null) return Problems.Conflict($"this {IdempotencyHeader} was used for a different request");
            claim = ($"{caller.AccountId}/{key}", fingerprint);
            if (claimed != jobId)
            {
                // A retry: the job exists already (or its first submission is still being answered).
                var existing = await grains.GetGrain<IJobGrain>(claimed).GetAsync();
                if (existing is not null) return Results.Accepted($"/v1/jobs/{claimed}", new SubmitJobResponse(claimed, Quote(existing)));
                jobId = claimed;
            }
        }

        var maxMicroHu = request.MaxHu is { } hu ? MicroHu.FromHu(hu) : (long?)null;
        var result = await grains.GetGrain<IJobGrain>(jobId).SubmitAsync(new JobSubmission(caller.AccountId, spec, maxMicroHu));
        // A refused submission created no job: its key is let go, so that the corrected request (a lower maxHu, once a
        // device is online) is not a 409 for a key that holds nothing.
        if (result.Refusal is not (JobRefusal.None or JobRefusal.AlreadyExists) && claim is { } held)
            await grains.GetGrain<IIdempotencyGrain>(held.Key).ReleaseAsync(held.Fingerprint, jobId);
        return result.Refusal switch
        {
            JobRefusal.None or JobRefusal.AlreadyExists when result.Job is not null =>
                Results.Accepted($"/v1/jobs/{jobId}", new SubmitJobResponse(jobId, Quote(result.Job))),
            JobRefusal.InsufficientBalance => Results.Problem(title: "insufficient balance",
                detail: string.Join("; ", result.Errors.Select(e => e.Reason)), statusCode: StatusCodes.Status402PaymentRequired),
            _ => Problems.Invalid(result.Errors),
        };
    }

    /// <summary>The estimate the job was priced at when it was submitted (priced once, in the job grain).</summary>
    private static EstimateResponse Quote(JobView job) => Describe(job.Estimate, job.EstimatedEtaSeconds, job.EurPerHu);

    private static async Task<IResult> GetAsync(string jobId, HttpContext context, IGrainFactory grains)
    {
        var (job, problem) = await OwnedJobAsync(jobId, context, grains);
        return problem ?? Results.Ok(Describe(job!));
    }

    private static async Task EventsAsync(string jobId, HttpContext context, IGrainFactory grains, IOptions<JsonOptions> json)
    {
        var (job, problem) = await OwnedJobAsync(jobId, context, grains);
        if (problem is not null)
        {
            await problem.ExecuteAsync(context);
            return;
        }
        await new JobEventStream(grains.GetGrain<IJobGrain>(jobId), json.Value.SerializerOptions).RunAsync(context, job!);
    }

    private static async Task<IResult> ResultAsync(string jobId, string? format, int? round, HttpContext context, IGrainFactory grains, IBlobStore blobs)
    {
        var (job, problem) = await OwnedJobAsync(jobId, context, grains);
        if (problem is not null) return problem;
        if (format is not (null or "f32" or "torchsharp" or "safetensors")) return Problems.Invalid("format", "must be 'f32', 'safetensors' or 'torchsharp'");
        var (result, checkpoint, refused) = await JobResults.ChooseAsync(job!, round, grains);
        if (refused is not null) return refused;
        if (result is null)
            return Problems.Conflict($"the job is {StateOf(job!.Status)}; its result exists once it has completed (or, for training, once it stopped after a completed round)");
        // Which rounds these weights hold: all of them, a stopped training job's last checkpoint, or the round asked for.
        context.Response.Headers["Huginn-Rounds-Completed"] = result.RoundsCompleted.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers[JobResults.CheckpointHeader] = checkpoint;
        // The result lies in the blob store, one blob per shard (or the weights): streamed from there, never through a grain.
        foreach (var blobId in result.BlobIds)
        {
            if (await blobs.GetLengthAsync(blobId, context.RequestAborted) is null)
                return Results.Problem(title: "result no longer stored", detail: $"blob {blobId} of this result was collected", statusCode: StatusCodes.Status410Gone);
        }
        context.Response.Headers["Huginn-Result-Kind"] = result.Kind.ToString().ToLowerInvariant();
        if (format == "safetensors") return JobResults.Safetensors(job!, result, checkpoint, context, blobs);
        if (format == "torchsharp")
        {
            if (result.Kind != WorkloadKind.Train) return Problems.Invalid("format", "torchsharp is the format of trained weights; this job's result is not weights");
            await using var stream = (await blobs.OpenReadAsync(result.BlobIds.Single(), context.RequestAborted))!;
            var weights = await F32Streams.ReadAllAsync(stream, result.Bytes / sizeof(float), context.RequestAborted);
            return Results.File(TorchSharpFormat.Write(job!.Spec.Model!, weights), "application/octet-stream", $"{jobId}.dat");
        }
        // f32: weights (train) or outputs (infer) as float32 little-endian in layout order; prep: the prepared bytes.
        context.Response.ContentLength = result.Bytes;
        return Results.Stream(async body =>
        {
            foreach (var blobId in result.BlobIds)
            {
                await using var part = await blobs.OpenReadAsync(blobId, context.RequestAborted)
                    ?? throw new IOException($"blob {blobId} of job {jobId}'s result disappeared while it was being sent");
                await part.CopyToAsync(body, 64 * 1024, context.RequestAborted);
            }
        }, "application/octet-stream");
    }

    private static async Task<IResult> CancelAsync(string jobId, HttpContext context, IGrainFactory grains)
    {
        var (_, problem) = await OwnedJobAsync(jobId, context, grains);
        if (problem is not null) return problem;
        return Results.Ok(Describe((await grains.GetGrain<IJobGrain>(jobId).CancelAsync())!));
    }

    internal static async Task<(JobView? Job, IResult? Problem)> OwnedJobAsync(string jobId, HttpContext context, IGrainFactory grains)
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

    public static EstimateResponse Describe(CostEstimate e, double etaSeconds, decimal eurPerHu) => new(
        MicroHu.ToHu(e.TotalMicroHu), e.Eur, e.Shards, e.AuditFraction, etaSeconds,
        new EstimateBreakdown(MicroHu.ToHu(e.WorkMicroHu), MicroHu.ToHu(e.AuditMicroHu), MicroHu.ToHu(e.FeeMicroHu),
            e.Shards == 0 ? 0 : MicroHu.ToHu(e.WorkMicroHu / e.Shards), eurPerHu));

    public static JobResponse Describe(JobView job) => new(
        job.JobId, job.Spec.Kind.ToString().ToLowerInvariant(), StateOf(job.Status),
        new JobProgressResponse(job.Progress.ShardsTotal, job.Progress.ShardsDone, job.Progress.ShardsVerified, job.Progress.Round, job.Progress.Rounds),
        MicroHu.ToHu(job.EscrowMicroHu), MicroHu.ToHu(job.SpentMicroHu), MicroHu.ToHu(job.RefundedMicroHu),
        new JobMetrics(job.RoundLosses.Select(l => double.IsFinite(l) ? l : (double?)null).ToArray(),
            JobMetrics.Nullable(job.ValidationLosses), JobMetrics.Nullable(job.ValidationAccuracies)), job.DevicesCaught, job.FailureReason, job.CreatedAt, job.FinishedAt,
        MicroHu.ToHu(job.Estimate.TotalMicroHu), job.IsFinished ? MicroHu.ToHu(job.SpentMicroHu) : null, JobResults.Summarize(job));
}
