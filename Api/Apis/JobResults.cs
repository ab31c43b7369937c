using System.Globalization;
using System.Text.Json;
using Huginn.Api.Access;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;

namespace Huginn.Api.Apis;

/// <summary>
/// Whether a job has a result and which weights it is. Checkpoint: "final" (a completed job's result),
/// "last-completed-round" (a training job that failed or was cancelled after a round: the weights after its last
/// completed round) or "round" (an earlier round's checkpoint, asked for with ?round=N). Null on a job while it has none.
/// </summary>
public sealed record JobResultSummary(string Checkpoint, int RoundsCompleted);

/// <summary>A training job's checkpoint as listed: the round it completed, its weights' size, when, and the round's loss.</summary>
public sealed record JobCheckpointResponse(int Round, long Bytes, DateTimeOffset CreatedAt, double? Loss);

public sealed record JobCheckpointsResponse(string JobId, JobCheckpointResponse[] Checkpoints);

/// <summary>
/// GET /v1/jobs/{id}/result's choice of weights (a round's checkpoint or the result) and its safetensors format,
/// and GET /v1/jobs/{id}/checkpoints. Everything model-sized streams from the blob store through this request;
/// the grain answers ids.
/// </summary>
public static class JobResults
{
    /// <summary>Which weights a result holds: see <see cref="JobResultSummary.Checkpoint"/>.</summary>
    public const string CheckpointHeader = "Huginn-Result-Checkpoint";
    public const string Final = "final", LastCompletedRound = "last-completed-round", Round = "round";

    public static JobResultSummary? Summarize(JobView job)
    {
        var train = job.Spec.Kind == WorkloadKind.Train;
        var rounds = train ? job.RoundLosses.Length : job.Status == JobStatus.Completed ? 1 : 0;
        if (job.Status == JobStatus.Completed) return new JobResultSummary(Final, rounds);
        return train && job.Status is JobStatus.Failed or JobStatus.Cancelled && rounds > 0 ? new JobResultSummary(LastCompletedRound, rounds) : null;
    }

    /// <summary>
    /// The result to send and how to mark it: the job's result (null while it has none), or with
    /// <paramref name="round"/> that round's checkpoint (a training job's, completed or not); or a problem.
    /// </summary>
    public static async Task<(JobResult? Result, string Checkpoint, IResult? Problem)> ChooseAsync(JobView job, int? round, IGrainFactory grains)
    {
        var grain = grains.GetGrain<IJobGrain>(job.JobId);
        if (round is not { } wanted)
        {
            var result = await grain.GetResultAsync();
            return (result, Summarize(job)?.Checkpoint ?? Final, null);
        }
        if (job.Spec.Kind != WorkloadKind.Train) return (null, "", Problems.Invalid("round", "only a training job has round checkpoints"));
        var checkpoints = await grain.GetCheckpointsAsync();
        if (checkpoints.FirstOrDefault(c => c.Round == wanted) is not { } checkpoint)
        {
            return (null, "", Results.Problem(title: "not found", statusCode: StatusCodes.Status404NotFound, detail: checkpoints.Length == 0
                ? "this job has completed no round yet: it has no checkpoint"
                : $"no checkpoint of round {wanted}: this job has checkpoints of rounds 1 to {checkpoints[^1].Round} (GET /v1/jobs/{job.JobId}/checkpoints)"));
        }
        var mark = job.Status == JobStatus.Completed && wanted == job.Progress.Rounds ? Final : Round;
        return (new JobResult(WorkloadKind.Train, [checkpoint.BlobId], checkpoint.Bytes, job.RoundLosses.Take(wanted).ToArray(), wanted), mark, null);
    }

    /// <summary>
    /// Weights as a safetensors file loadable by the PyTorch module of the same architecture (names in
    /// <see cref="SafetensorsFormat.PyTorchLayout"/>), or inference outputs as one tensor "outputs" [samples, outputSize]:
    /// a header written here, then the stored f32 blobs as they are (the registry's layout is PyTorch's, row-major).
    /// </summary>
    public static IResult Safetensors(JobView job, JobResult result, string checkpoint, HttpContext context, IBlobStore blobs)
    {
        var model = job.Spec.Model;
        if (result.Kind == WorkloadKind.Prep || model is null)
            return Problems.Invalid("format", "safetensors holds weights or inference outputs; a prep job's result is bytes: use f32");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // "pt": what PyTorch's safetensors writer puts here; loaders read it as "tensors of torch".
            ["format"] = "pt",
            ["huginn.jobId"] = job.JobId,
            ["huginn.model"] = JsonSerializer.Serialize(model, JsonSerializerOptions.Web),
            ["huginn.roundsCompleted"] = result.RoundsCompleted.ToString(CultureInfo.InvariantCulture),
            ["huginn.checkpoint"] = checkpoint,
        };
        byte[] header;
        if (result.Kind == WorkloadKind.Train) header = SafetensorsFormat.WeightsHeader(model, metadata);
        else
        {
            var outputSize = ModelRegistry.Get(model.Type).OutputsPerSample(model);
            var rowBytes = 4L * outputSize;
            if (result.Bytes % rowBytes != 0)
                return Results.Problem(title: "result does not fit the model", statusCode: StatusCodes.Status500InternalServerError,
                    detail: $"the outputs hold {result.Bytes} bytes, not whole rows of {outputSize} float32 values; download them with format=f32");
            header = SafetensorsFormat.OutputsHeader(result.Bytes / rowBytes, outputSize, metadata);
        }
        context.Response.ContentLength = header.Length + result.Bytes;
        return Results.Stream(async body =>
        {
            await body.WriteAsync(header, context.RequestAborted);
            foreach (var blobId in result.BlobIds)
            {
                await using var part = await blobs.OpenReadAsync(blobId, context.RequestAborted)
                    ?? throw new IOException($"blob {blobId} of job {job.JobId}'s result disappeared while it was being sent");
                await part.CopyToAsync(body, 64 * 1024, context.RequestAborted);
            }
        }, "application/octet-stream", $"{job.JobId}{(checkpoint == Round ? $"-round{result.RoundsCompleted}" : "")}.safetensors");
    }

    public static async Task<IResult> CheckpointsAsync(string jobId, HttpContext context, IGrainFactory grains)
    {
        var (job, problem) = await JobsApi.OwnedJobAsync(jobId, context, grains);
        if (problem is not null) return problem;
        var checkpoints = await grains.GetGrain<IJobGrain>(jobId).GetCheckpointsAsync();
        return Results.Ok(new JobCheckpointsResponse(jobId, checkpoints
            .Select(c => new JobCheckpointResponse(c.Round, c.Bytes, c.CreatedAt, LossOf(job!, c.Round)))
            .ToArray()));
    }

    /// <summary>The round's training loss over its verified shards; null when none was verified.</summary>
    private static double? LossOf(JobView job, int round) =>
        round <= job.RoundLosses.Length && double.IsFinite(job.RoundLosses[round - 1]) ? job.RoundLosses[round - 1] : null;
}
