using System.Diagnostics;
using System.Text.Json;
using Huginn.Worker.Execution;
using Huginn.Worker.Hardware;
using Huginn.Workloads;

namespace Huginn.Benchmarks;

/// <summary>
/// Row 9: samples/s of the browser executor (web/src/executor, TensorFlow.js) on light training shards, per backend,
/// against the TorchSharp worker's executor on the CPU of the same machine in the same run, as a ratio. The cases are
/// web/measure/bench-cases.json, read by both sides; both are handed the weights and the slice beforehand and timed
/// over the whole shard, best of the repeats after a one-step warm-up. The browser side is web's own runner
/// (<c>node web/dist-measure/node.mjs bench</c>): TF.js under Node on its cpu and wasm backends, and in the full run
/// headless Chromium (/usr/bin/chromium) on cpu, wasm, webgl and webgpu where they start.
/// </summary>
public static class Row9Browser
{
    public sealed record Sizes(string Set, int Repeats, string Chromium);

    public static Sizes Full { get; } = new("full", 3, "cpu,wasm,webgl,webgpu");

    /// <summary>Tiny shards, Node's backends only (no browser start-up): seconds.</summary>
    public static Sizes Smoke { get; } = new("smoke", 1, "");

    private sealed record BenchCase(string Name, ModelSpec Model, int Batch, int Steps, int Samples);

    private sealed record BrowserResult(string Name, string Backend, double SamplesPerSecond);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<List<string[]>> RunAsync(Sizes sizes)
    {
        var web = Path.Combine(RepositoryRoot(), "web");
        var cases = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(web, "measure", "bench-cases.json")))
            .RootElement.GetProperty(sizes.Set).Deserialize<BenchCase[]>(Json)!;

        var profile = HardwareProbe.Detect() with { TorchDevice = "cpu" };
        var executor = new TorchExecutor(profile);
        // The worker as it runs (libtorch's default intra-op threads), and on one thread, as a tab's WASM and CPU
        // backends compute (TF.js's WASM backend is built without threads; the CPU backend is JavaScript).
        var threads = TorchSharp.torch.get_num_threads();
        var torch = cases.ToDictionary(c => c.Name, c => TorchSamplesPerSecond(executor, c, sizes.Repeats));
        TorchSharp.torch.set_num_threads(1);
        var torchOneThread = cases.ToDictionary(c => c.Name, c => TorchSamplesPerSecond(executor, c, sizes.Repeats));
        TorchSharp.torch.set_num_threads(threads);

        var rows = new List<string[]>();
        var (browser, error) = await BrowserAsync(web, sizes);
        if (browser is null)
        {
            rows.Add(["9: browser executor vs TorchSharp CPU worker", $"not run: {error}", "", ""]);
            return rows;
        }
        foreach (var r in browser)
        {
            if (!torch.TryGetValue(r.Name, out var baseline)) continue;
            var c = cases.First(x => x.Name == r.Name);
            var oneThread = torchOneThread[r.Name];
            rows.Add([
                $"9: browser shard vs TorchSharp CPU worker, {r.Name}, batch {c.Batch}, {r.Backend}",
                $"**{r.SamplesPerSecond / baseline:F2}** ({r.SamplesPerSecond:N0} / {baseline:N0} samples/s, {c.Steps} steps); vs 1 thread {r.SamplesPerSecond / oneThread:F2} ({oneThread:N0})",
                $"TorchExecutor on the CPU at {threads} threads and at 1, same cases, same machine, same run",
                "measured (no target)",
            ]);
        }
        return rows;
    }

    /// <summary>Best samples/s of the TorchSharp executor on the case, from the weights and the slice in memory.</summary>
    private static double TorchSamplesPerSecond(TorchExecutor executor, BenchCase c, int repeats)
    {
        var spec = new JobSpec { Kind = WorkloadKind.Train, Model = c.Model, LearningRate = 0.01f, BatchSize = c.Batch, LocalSteps = c.Steps, Seed = 3 };
        var shard = new ShardPlan { SampleCount = c.Samples, Steps = c.Steps, BatchSize = c.Batch, Seed = 7 };
        var data = SyntheticData.Generate(new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Blobs, Samples = c.Samples, Seed = 7, Noise = 1 }, c.Model, 0, c.Samples);
        var weights = ModelInitializer.Initialize(c.Model, 3);
        executor.Execute(spec, shard with { Steps = 1 }, weights, data);
        var best = double.MaxValue;
        for (var r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            executor.Execute(spec, shard, weights, data);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return (double)c.Steps * c.Batch / best;
    }

    /// <summary>Builds and runs web's benchmark runner; null and the reason when node, the packages or the build are missing.</summary>
    private static async Task<(List<BrowserResult>? Results, string Error)> BrowserAsync(string web, Sizes sizes)
    {
        if (!Directory.Exists(Path.Combine(web, "node_modules"))) return (null, "web/node_modules is missing (cd web && npm ci)");
        var build = await RunNodeAsync(web, "scripts/build-measure.mjs");
        if (build.ExitCode != 0) return (null, $"node scripts/build-measure.mjs failed: {build.Output}");
        var report = Path.Combine(Path.GetTempPath(), $"huginn-row9-{Guid.NewGuid():N}.json");
        try
        {
            var run = await RunNodeAsync(web, "dist-measure/node.mjs", "bench", "--set", sizes.Set, "--repeats", sizes.Repeats.ToString(),
                "--node", "cpu,wasm", "--chromium", sizes.Chromium, "--json", report);
            if (run.ExitCode != 0 || !File.Exists(report)) return (null, $"the runner failed: {run.Output}");
            var results = new List<BrowserResult>();
            foreach (var entry in JsonDocument.Parse(await File.ReadAllTextAsync(report)).RootElement.EnumerateArray())
            {
                var runtime = entry.GetProperty("runtime").GetString();
                var r = entry.GetProperty("report");
                var backend = $"{runtime} {r.GetProperty("backend").GetString()}";
                if (!r.TryGetProperty("bench", out var bench))
                {
                    Console.Error.WriteLine($"row 9: {backend} did not run: {(r.TryGetProperty("error", out var e) ? e.GetString() : "backend did not start")}");
                    continue;
                }
                foreach (var b in bench.EnumerateArray())
                    results.Add(new BrowserResult(b.GetProperty("name").GetString()!, backend, b.GetProperty("samplesPerSecond").GetDouble()));
            }
            return (results, "");
        }
        finally
        {
            File.Delete(report);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunNodeAsync(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            // Bounded: the full run's Chromium backends take minutes at most; a hang must not hold the benchmarks.
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(20));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
            var text = (await output) + (await errors);
            return (process.ExitCode, text.Length > 2000 ? text[^2000..] : text);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or OperationCanceledException)
        {
            return (-1, e.Message);
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Huginn.Orleans.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"no Huginn.Orleans.sln above {AppContext.BaseDirectory}");
    }
}
