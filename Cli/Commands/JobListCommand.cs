using System.CommandLine;
using System.Text.Json;
using Huginn.Cli.Http;
using Huginn.Cli.Output;
using Huginn.Protocol;
using Spectre.Console;

namespace Huginn.Cli.Commands;

/// <summary>huginn jobs: the caller's jobs, newest first, a page or (--all) every page.</summary>
public static class JobListCommand
{
    /// <summary>Pages --all follows at most: 200 jobs a page, a million jobs, and never a loop on a server that repeats a cursor.</summary>
    private const int MaxPages = 5_000;

    public static Command Build()
    {
        var state = new Option<string[]>("--state")
        {
            Description = "Only jobs in this state: queued, running, completed, failed or cancelled (repeat it, or a comma list).",
            HelpName = "S",
            AllowMultipleArgumentsPerToken = false,
        };
        var limit = new Option<int>("--limit") { Description = "Jobs per page (1-200).", DefaultValueFactory = _ => 50, HelpName = "N" };
        var all = new Option<bool>("--all") { Description = "Every job, following the pages, instead of the newest page." };
        var command = new Command("jobs", "List your jobs, newest first: id, kind, state, progress, HU estimated and spent, times.") { state, limit, all };
        command.SetBody(async (session, parse, cancellationToken) =>
        {
            var states = parse.GetValue(state) ?? [];
            var client = session.Client();
            var jobs = new List<JobSummary>();
            var bodies = new List<JsonElement>();
            string? cursor = null;
            for (var page = 0; page < MaxPages; page++)
            {
                var response = await client.GetAsync(PathOf(states, parse.GetValue(limit), cursor), cancellationToken);
                var list = response.Read<JobList>();
                jobs.AddRange(list.Jobs);
                bodies.Add(JsonDocument.Parse(response.Body).RootElement.Clone());
                if (list.Cursor is null || list.Cursor == cursor || !parse.GetValue(all))
                {
                    cursor = list.Cursor;
                    break;
                }
                cursor = list.Cursor;
            }
            if (session.Json)
            {
                // One page: the API's answer as it came; --all: every page's jobs in one document, no cursor left.
                session.WriteJson(parse.GetValue(all)
                    ? JsonSerializer.Serialize(new { jobs = bodies.SelectMany(b => b.GetProperty("jobs").EnumerateArray()).ToArray(), cursor = (string?)null }, Frame.Json)
                    : bodies[0].GetRawText());
                return ExitCodes.Success;
            }
            JobListText.Write(session.Out, jobs);
            if (cursor is not null && !parse.GetValue(all)) session.Out.WriteLine("More jobs: huginn jobs --all");
            return ExitCodes.Success;
        });
        return command;
    }

    private static string PathOf(string[] states, int limit, string? cursor)
    {
        var query = new List<string> { $"limit={limit}" };
        query.AddRange(states.Select(s => $"state={Uri.EscapeDataString(s)}"));
        if (cursor is not null) query.Add($"cursor={Uri.EscapeDataString(cursor)}");
        return $"v1/jobs?{string.Join('&', query)}";
    }
}
