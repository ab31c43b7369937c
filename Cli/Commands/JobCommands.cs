using System.CommandLine;
using System.Text.Json;
using Huginn.Cli.Http;
using Huginn.Cli.Output;
using Spectre.Console;
using Huginn.Protocol;

namespace Huginn.Cli.Commands;

/// <summary>huginn estimate | follow | status | events | result | cancel (submit has its own file).</summary>
public static class JobCommands
{
    public static Argument<string> SpecArgument() => new("SPEC.json") { Description = "A job spec file: the JobSpec JSON (see samples/train-mlp.json)." };

    public static Argument<string> JobIdArgument() => new("JOB_ID") { Description = "The job's id (job_…)." };

    public static string JobPath(string jobId, string suffix = "") => $"v1/jobs/{Uri.EscapeDataString(jobId)}{suffix}";

    public static Command Estimate()
    {
        var specPath = SpecArgument();
        var command = new Command("estimate", "Price a job spec against the pool as it is now: HU, €, shards, audits, fee, ETA.") { specPath };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var spec = SpecFile.Load(parse.GetValue(specPath)!);
            var response = await session.Client().PostAsync("v1/estimates", spec.Document, cancellationToken);
            if (session.Json) session.WriteJson(response.Body);
            else JobText.WriteEstimate(session.Out, response.Read<Estimate>(), spec);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Follow()
    {
        var jobId = JobIdArgument();
        var command = new Command("follow", "Follow a job live until it finishes; exit code 0 when it completed, 1 when it failed or was cancelled.") { jobId };
        command.SetBody((session, parse, cancellationToken) => FollowAsync(session, parse.GetValue(jobId)!, cancellationToken));
        return command;
    }

    /// <summary>Follows a job to its end: a live display (or, with --json, the final job JSON); the exit code says how it ended.</summary>
    public static async Task<int> FollowAsync(Session session, string jobId, CancellationToken cancellationToken)
    {
        var events = new JobEvents(session.Client(), jobId);
        ApiResponse final;
        try
        {
            final = session.Json
                ? await events.FollowAsync(_ => { }, cancellationToken)
                : await ProgressDisplay.RunAsync(session.Out, onEvent => events.FollowAsync(onEvent, cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Interrupted, "stopped following", [$"the job goes on: huginn follow {jobId}, or huginn cancel {jobId}"]);
        }
        var job = final.Read<Job>();
        if (session.Json) session.WriteJson(final.Body);
        else JobText.WriteOutcome(session.Out, job);
        return job.State == Job.Completed ? ExitCodes.Success : ExitCodes.JobNotCompleted;
    }

    public static Command Status()
    {
        var jobId = JobIdArgument();
        var command = new Command("status", "Show a job: state, progress, loss, HU estimated, spent and refunded.") { jobId };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var response = await session.Client().GetAsync(JobPath(parse.GetValue(jobId)!), cancellationToken);
            if (session.Json) session.WriteJson(response.Body);
            else JobText.WriteJob(session.Out, response.Read<Job>());
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Events()
    {
        var jobId = JobIdArgument();
        var command = new Command("events",
            "Stream a job's events (progress, round, caught, state) as 'event: data' lines until it finishes; --json prints the raw event stream.")
        {
            jobId,
        };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var id = parse.GetValue(jobId)!;
            var final = await new JobEvents(session.Client(), id).FollowAsync(e =>
            {
                Console.Out.Write(session.Json ? $"event: {e.Name}\ndata: {e.Data}\n\n" : $"{e.Name}: {e.Data}\n");
                Console.Out.Flush();
            }, cancellationToken);
            return final.Read<Job>().State == Job.Completed ? ExitCodes.Success : ExitCodes.JobNotCompleted;
        });
        return command;
    }

    public static Command Result()
    {
        var jobId = JobIdArgument();
        var output = new Option<FileInfo>("--out") { Description = "The file to write the result to.", Required = true, HelpName = "FILE" };
        output.AcceptLegalFilePathsOnly();
        var format = new Option<string>("--format")
        {
            Description = "f32: float32 little-endian in layout order (weights, outputs; a prep job's bytes); safetensors: weights by PyTorch name "
                + "(load_state_dict) or outputs as one [samples, outputs] tensor; torchsharp: trained weights loadable by TorchSharp.",
            DefaultValueFactory = _ => "f32",
        };
        format.AcceptOnlyFromAmong("f32", "safetensors", "torchsharp");
        var round = new Option<int?>("--round") { Description = "A training job's checkpoint after round N (huginn checkpoints JOB_ID lists them) instead of its result.", HelpName = "N" };
        var command = new Command("result", "Download a job's result (trained weights, inference outputs or prepared data), or a training round's checkpoint.")
        {
            jobId, output, format, round,
        };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var id = parse.GetValue(jobId)!;
            var file = parse.GetValue(output)!;
            var chosen = parse.GetValue(format)!;
            var checkpointRound = parse.GetValue(round);
            var query = checkpointRound is { } n ? $"&round={n.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "";
            using var response = await session.Client().OpenAsync(JobPath(id, $"/result?format={chosen}{query}"), cancellationToken);
            var kind = response.Headers.TryGetValues("Huginn-Result-Kind", out var values) ? values.FirstOrDefault() : null;
            // final, last-completed-round (a stopped training job's last checkpoint) or round (one asked for with --round).
            var checkpoint = response.Headers.TryGetValues("Huginn-Result-Checkpoint", out var marks) ? marks.FirstOrDefault() : null;
            var rounds = response.Headers.TryGetValues("Huginn-Rounds-Completed", out var counts) && int.TryParse(counts.FirstOrDefault(), out var c) ? c : (int?)null;

            // Written aside and moved into place, so that FILE is never a partial download.
            file.Directory?.Create();
            var partial = file.FullName + ".part";
            long bytes;
            await using (var target = File.Create(partial))
            {
                await response.Content.CopyToAsync(target, cancellationToken);
                bytes = target.Length;
            }
            File.Move(partial, file.FullName, overwrite: true);

            if (session.Json)
                session.WriteJson(JsonSerializer.Serialize(new { jobId = id, file = file.FullName, bytes, format = chosen, kind, checkpoint, roundsCompleted = rounds }, Frame.Json));
            else
                session.Out.WriteLine($"Wrote {bytes} bytes ({kind ?? "result"}, {chosen}{Describe(checkpoint, rounds)}) to {file.FullName}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static string Describe(string? checkpoint, int? rounds) => checkpoint switch
    {
        "last-completed-round" => $", the job stopped: its last checkpoint, after round {rounds}",
        "round" => $", the checkpoint after round {rounds}",
        _ => "",
    };

    public static Command Cancel()
    {
        var jobId = JobIdArgument();
        var command = new Command("cancel", "Cancel a job; the unspent escrow is refunded.") { jobId };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var path = JobPath(parse.GetValue(jobId)!);
            var client = session.Client();
            // Cancelling a finished job changes nothing and answers the job as it is; asking first tells the two apart.
            var before = (await client.GetAsync(path, cancellationToken)).Read<Job>();
            var response = await client.DeleteAsync(path, cancellationToken);
            if (session.Json)
            {
                session.WriteJson(response.Body);
                return ExitCodes.Success;
            }
            var job = response.Read<Job>();
            session.Out.WriteLine(before.IsFinished
                ? $"Job {job.JobId} had already {job.State}; nothing to cancel."
                : $"Job {job.JobId} is {job.State}: {Formats.Hu(job.RefundedHu)} refunded, {Formats.Hu(job.ActualHu ?? job.SpentHu)} spent.");
            return ExitCodes.Success;
        });
        return command;
    }
}
