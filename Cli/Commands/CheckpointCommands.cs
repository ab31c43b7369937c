using System.CommandLine;
using System.Globalization;
using Huginn.Cli.Http;
using Huginn.Cli.Output;
using Spectre.Console;

namespace Huginn.Cli.Commands;

/// <summary>huginn checkpoints JOB_ID: a training job's round checkpoints, each downloadable with huginn result --round N.</summary>
public static class CheckpointCommands
{
    public static Command Build()
    {
        var jobId = JobCommands.JobIdArgument();
        var command = new Command("checkpoints", "List a training job's checkpoints: the weights after each completed round (download one with huginn result --round N).") { jobId };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var id = parse.GetValue(jobId)!;
            var response = await session.Client().GetAsync(JobCommands.JobPath(id, "/checkpoints"), cancellationToken);
            if (session.Json)
            {
                session.WriteJson(response.Body);
                return ExitCodes.Success;
            }
            var listed = response.Read<JobCheckpoints>();
            if (listed.Checkpoints.Length == 0)
            {
                session.Out.WriteLine($"Job {id} has no checkpoint: it has completed no training round.");
                return ExitCodes.Success;
            }
            var table = new Table().AddColumns("round", "bytes", "created (UTC)", "loss");
            foreach (var c in listed.Checkpoints)
                table.AddRow(c.Round.ToString(CultureInfo.InvariantCulture), c.Bytes.ToString(CultureInfo.InvariantCulture), Formats.Time(c.CreatedAt), c.Loss is { } loss ? Formats.Number(loss) : "-");
            session.Out.Write(table);
            session.Out.WriteLine($"huginn result {id} --round N --format safetensors --out FILE downloads one.");
            return ExitCodes.Success;
        });
        return command;
    }
}
