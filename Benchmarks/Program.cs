using System.Diagnostics;
using Huginn.Benchmarks;

// dotnet run --project Benchmarks -c Release -- [--smoke] [--row 1|6]
var smoke = args.Contains("--smoke");
var rowArg = Array.IndexOf(args, "--row") is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
var rows = new List<string[]>();
var clock = Stopwatch.StartNew();
if (rowArg is null or "1") rows.AddRange(await Row1Lifecycle.RunAsync(smoke ? Row1Lifecycle.Smoke : Row1Lifecycle.Full));
if (rowArg is null or "6") rows.AddRange(await Row6Verification.RunAsync(smoke ? Row6Verification.Smoke : Row6Verification.Full));

Console.WriteLine($"| row | measured | baseline / detail | target |");
Console.WriteLine("| --- | --- | --- | --- |");
foreach (var row in rows) Console.WriteLine($"| {string.Join(" | ", row)} |");
Console.WriteLine($"{(smoke ? "smoke" : "full")} run, {Environment.ProcessorCount} cores, {clock.Elapsed.TotalSeconds:F1} s");
return 0;
