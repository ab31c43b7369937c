using Huginn.Cli.Http;
using Spectre.Console;

namespace Huginn.Cli.Output;

/// <summary>A list of jobs as a plain table: aligned columns, no borders, so that it greps and cuts.</summary>
public static class JobListText
{
    private static readonly string[] Header = ["JOB", "KIND", "STATE", "ROUND", "SHARDS", "ESTIMATED", "SPENT", "CREATED", "FINISHED"];

    public static void Write(IAnsiConsole console, IReadOnlyList<JobSummary> jobs)
    {
        if (jobs.Count == 0)
        {
            console.WriteLine("No jobs.");
            return;
        }
        var rows = jobs.Select(j => new[]
        {
            j.JobId, j.Kind, j.State, $"{j.Progress.Round}/{j.Progress.Rounds}", $"{j.Progress.ShardsDone}/{j.Progress.ShardsTotal}",
            Formats.Hu(j.EstimatedHu), j.ActualHu is { } actual ? Formats.Hu(actual) : "-", Formats.Time(j.CreatedAt), Formats.Time(j.FinishedAt),
        }).Prepend(Header).ToList();
        var widths = Enumerable.Range(0, Header.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
            console.WriteLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
    }
}
