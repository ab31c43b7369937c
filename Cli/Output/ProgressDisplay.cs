using System.Text.Json;
using Huginn.Cli.Http;
using Huginn.Protocol;
using Spectre.Console;

namespace Huginn.Cli.Output;

/// <summary>
/// A job's live progress. On a terminal: a bar for rounds (with the latest loss) and one for shards (done,
/// verified, caught). Into a file or a pipe: one plain line each time the picture changes, not a redrawn screen.
/// </summary>
public sealed class ProgressDisplay
{
    private readonly SortedDictionary<int, double> _losses = [];
    private ValidationEvent? _validation;
    private readonly SortedSet<string> _caught = new(StringComparer.Ordinal);
    private ProgressEvent? _last;

    /// <summary>Shows the display while <paramref name="follow"/> runs, feeding it each event.</summary>
    public static async Task<T> RunAsync<T>(IAnsiConsole console, Func<Action<ServerSentEvent>, Task<T>> follow)
    {
        var display = new ProgressDisplay();
        if (!console.Profile.Capabilities.Interactive)
        {
            string? previous = null;
            return await follow(e =>
            {
                display.Apply(e);
                if (display.Line() is { } line && line != previous) console.WriteLine(previous = line);
            });
        }

        return await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var rounds = context.AddTask("waiting for the job", maxValue: 1);
                var shards = context.AddTask("shards", maxValue: 1);
                try
                {
                    return await follow(e =>
                    {
                        display.Apply(e);
                        display.Render(rounds, shards);
                    });
                }
                finally
                {
                    rounds.StopTask();
                    shards.StopTask();
                }
            });
    }

    private void Apply(ServerSentEvent e)
    {
        switch (e.Name)
        {
            case "progress":
                _last = Read<ProgressEvent>(e) ?? _last;
                break;
            case "round" when Read<RoundEvent>(e) is { Loss: { } loss } round:
                _losses[round.Round] = loss;
                break;
            case "validation" when Read<ValidationEvent>(e) is { } validation:
                if (_validation is null || validation.Round >= _validation.Round) _validation = validation;
                break;
            case "caught" when Read<CaughtEvent>(e) is { } caught:
                _caught.Add(caught.DeviceId);
                break;
            case JobEvents.State when Read<Job>(e) is { } job:
                _last = new ProgressEvent(job.State, job.Progress, job.SpentHu);
                break;
        }
    }

    private string Loss => (_losses.Count == 0 ? "" : $" · loss {Formats.Number(_losses.Last().Value, "G5")}")
        + (_validation is not { } v ? ""
            : $" · validation (round {v.Round}) {Formats.Number(v.Loss, "G5")}" + (v.Accuracy is { } a ? $", {JobText.Percent(a)}" : ""));

    private string Caught => _caught.Count == 0 ? "" : $" · caught {string.Join(", ", _caught)}";

    private void Render(ProgressTask rounds, ProgressTask shards)
    {
        if (_last is not { } last) return;
        var p = last.Progress;
        rounds.Description = Markup.Escape($"{last.State} · round {p.Round}/{p.Rounds}{Loss}");
        rounds.MaxValue = Math.Max(1, p.Rounds);
        rounds.Value = last.State == Job.Completed ? p.Rounds : _losses.Count;
        shards.Description = Markup.Escape($"shards {p.ShardsDone}/{p.ShardsTotal} · {p.ShardsVerified} verified{Caught} · {Formats.Hu(last.SpentHu)} spent");
        shards.MaxValue = Math.Max(1, p.ShardsTotal);
        shards.Value = p.ShardsDone;
    }

    private string? Line() => _last is not { } last ? null
        : $"{last.State} · round {last.Progress.Round}/{last.Progress.Rounds} · shards {last.Progress.ShardsDone}/{last.Progress.ShardsTotal}"
          + $" · {last.Progress.ShardsVerified} verified{Loss}{Caught} · {Formats.Hu(last.SpentHu)} spent";

    private static T? Read<T>(ServerSentEvent e)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(e.Data, Frame.Json);
        }
        catch (JsonException)
        {
            return default; // an event shape from a newer API: shown once it is understood
        }
    }
}
