using System.CommandLine;
using Huginn.Cli.Http;
using Huginn.Cli.Output;
using Spectre.Console;

namespace Huginn.Cli.Commands;

/// <summary>
/// huginn submit: prices the spec, asks before spending (unless --yes), submits with an Idempotency-Key so that
/// its own retry cannot charge twice, then follows the job to its end.
/// </summary>
public static class SubmitCommand
{
    public const string IdempotencyHeader = "Idempotency-Key";

    public static Command Build()
    {
        var specPath = JobCommands.SpecArgument();
        var maxHu = new Option<decimal?>("--max-hu") { Description = "Escrow at most this many HU (default: the estimate); the unspent part is refunded.", HelpName = "HU" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Submit without asking for confirmation (needed when stdin is not a terminal)." };
        var noFollow = new Option<bool>("--no-follow") { Description = "Print the job id and return instead of following the job." };
        var idempotencyKey = new Option<string?>("--idempotency-key")
        {
            Description = "Makes retrying this command safe: the same key and spec never start a second job (default: a fresh key per run).",
            HelpName = "KEY",
        };
        var command = new Command("submit", "Price a job spec, confirm, submit it, and follow it live until it finishes.")
        {
            specPath, maxHu, yes, noFollow, idempotencyKey,
        };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var spec = SpecFile.Load(parse.GetValue(specPath)!);
            var max = parse.GetValue(maxHu);
            if (max is <= 0) throw CliException.Usage("--max-hu must be more than 0");
            var client = session.Client();

            var estimate = (await client.PostAsync("v1/estimates", spec.Document, cancellationToken)).Read<Estimate>();
            // With --json, stdout is for the API's JSON only: the estimate and the question go to stderr.
            var human = session.Json ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : session.Out;
            if (!session.Json || !parse.GetValue(yes)) JobText.WriteEstimate(human, estimate, spec, max);

            if (!parse.GetValue(yes))
            {
                if (Console.IsInputRedirected)
                    throw CliException.Usage("not submitted: stdin is not interactive, so there is no one to confirm the price",
                        "pass --yes to submit without asking");
                var question = max is { } cap ? $"Submit, spending at most {Formats.Hu(cap)}?" : $"Submit for about {Formats.Hu(estimate.Hu)}?";
                if (!await human.ConfirmAsync(question, defaultValue: false, cancellationToken))
                {
                    human.WriteLine("Not submitted.");
                    return ExitCodes.JobNotCompleted;
                }
            }

            var key = parse.GetValue(idempotencyKey) is { Length: > 0 } given ? given : $"huginn-cli-{Guid.NewGuid():N}";
            var response = await client.PostAsync("v1/jobs", new { spec = spec.Document, maxHu = max }, cancellationToken,
                new Dictionary<string, string> { [IdempotencyHeader] = key }, attempts: 2);
            var submitted = response.Read<Submitted>();
            if (session.Json) session.WriteJson(response.Body);
            else session.Out.WriteLine($"Submitted {submitted.JobId} (estimate {Formats.Hu(submitted.Estimate.Hu)}; what the escrow does not spend is refunded).");

            if (parse.GetValue(noFollow))
            {
                if (!session.Json) session.Out.WriteLine($"Follow it with: huginn follow {submitted.JobId}");
                return ExitCodes.Success;
            }
            return await JobCommands.FollowAsync(session, submitted.JobId, cancellationToken);
        });
        return command;
    }
}
