using System.Diagnostics;
using Huginn.Benchmarks;

// dotnet run --project Benchmarks -c Release -- [--smoke] [--row 1|2|3|4|5|6|7|8|9]
// Row 4 starts its workers as child processes of this executable.
if (args is [WorkerProcess.Flag, ..]) return await WorkerProcess.RunAsync(args[1..]);

var smoke = args.Contains("--smoke");
var rowArg = Array.IndexOf(args, "--row") is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

// Each row measures its own baseline in the same run.
var benchmarks = new (string Row, Func<bool, Task<List<string[]>>> Run)[]
{
    ("1", s => Row1Lifecycle.RunAsync(s ? Row1Lifecycle.Smoke : Row1Lifecycle.Full)),
    ("2", s => Row2Postgres.RunAsync(s ? Row2Postgres.Smoke : Row2Postgres.Full)),
    ("3", s => Row3Gateway.RunAsync(s ? Row3Gateway.Smoke : Row3Gateway.Full)),
    ("4", s => Row4Training.RunAsync(s ? Row4Training.Smoke : Row4Training.Full)),
    ("5", s => Row5Routing.RunAsync(s ? Row5Routing.Smoke : Row5Routing.Full)),
    ("6", s => Row6Verification.RunAsync(s ? Row6Verification.Smoke : Row6Verification.Full)),
    ("7", s => Row7Executor.RunAsync(s ? Row7Executor.Smoke : Row7Executor.Full)),
    ("8", s => Row8WorkerFootprint.RunAsync(s ? Row8WorkerFootprint.Smoke : Row8WorkerFootprint.Full)),
    ("9", s => Row9Browser.RunAsync(s ? Row9Browser.Smoke : Row9Browser.Full)),
};
if (rowArg is not null && benchmarks.All(b => b.Row != rowArg))
{
    Console.Error.WriteLine($"unknown row '{rowArg}'; rows: {string.Join(", ", benchmarks.Select(b => b.Row))}");
    return 2;
}

var rows = new List<string[]>();
var clock = Stopwatch.StartNew();
foreach (var benchmark in benchmarks.Where(b => rowArg is null || b.Row == rowArg))
{
    var started = clock.Elapsed;
    rows.AddRange(await benchmark.Run(smoke));
    Console.Error.WriteLine($"row {benchmark.Row}: {(clock.Elapsed - started).TotalSeconds:F1} s");
}

Console.WriteLine($"| row | measured | baseline / detail | target |");
Console.WriteLine("| --- | --- | --- | --- |");
foreach (var row in rows) Console.WriteLine($"| {string.Join(" | ", row)} |");
Console.WriteLine($"{(smoke ? "smoke" : "full")} run, {Environment.ProcessorCount} cores, {clock.Elapsed.TotalSeconds:F1} s");
return 0;
