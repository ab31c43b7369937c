using System.Diagnostics;
using System.Globalization;
using Huginn.Demo;
using Huginn.Worker.Agent;
using Huginn.Worker.Hardware;
using Huginn.Workloads;

namespace Huginn.Benchmarks;

/// <summary>
/// Row 8: the resident memory of the real Worker executable (Huginn.Worker.dll, its own process, as a contributor
/// runs it), read from /proc: right after the hardware probe (the .NET runtime plus libtorch loaded and one matmul
/// run; the worker logs what it held before libtorch loaded), idle once connected, and the peak while it trains shards
/// of a real job. Two workers run (an audit needs a
/// second owner); the row reports the larger of the two.
/// </summary>
public static class Row8WorkerFootprint
{
    public sealed record Sizes(ModelSpec Model, int Samples, int Rounds, int Shards, int Steps, int Batch);

    public static Sizes Full { get; } = new(
        new ModelSpec { Type = ModelSpec.Mlp, InputSize = 784, HiddenSizes = [512, 512], OutputSize = 10, Loss = ModelSpec.CrossEntropy },
        60_000, 2, 4, 20, 256);

    public static Sizes Smoke { get; } = new(
        new ModelSpec { Type = ModelSpec.Mlp, InputSize = 32, HiddenSizes = [64], OutputSize = 4, Loss = ModelSpec.CrossEntropy },
        2_048, 1, 2, 5, 64);

    public static async Task<List<string[]>> RunAsync(Sizes sizes)
    {
        var workerDll = Path.Combine(AppContext.BaseDirectory, "Huginn.Worker.dll");
        if (!File.Exists(workerDll)) throw new FileNotFoundException("The Worker executable is not beside the benchmarks.", workerDll);
        await using var pool = await LocalPool.StartAsync();
        using var anonymous = new PoolClient(pool.ApiUrl);
        var client = anonymous.As((await anonymous.CreateAccountAsync("footprint", "client")).ApiKey);
        await client.BuyAsync(1000);
        var capabilities = TorchShardExecutor.Capabilities(HardwareProbe.Detect());

        var workers = new List<ChildWorker>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var owner = anonymous.As((await anonymous.CreateAccountAsync($"owner-{i}", "contributor")).ApiKey);
                var device = await owner.RegisterDeviceAsync($"footprint-{i}", capabilities);
                workers.Add(ChildWorker.Start(workerDll, pool.ApiUrl, device.DeviceToken));
            }
            await Until(() => workers.All(w => w.Connected), TimeSpan.FromSeconds(60), "both workers connected", workers);
            var afterProbe = workers.Max(w => w.ProbeRssMb);
            var beforeTorch = workers.Max(w => w.BeforeTorchMb);
            // Idle: connected, heartbeating, nothing leased, after the start-up garbage had a few seconds to go.
            await Task.Delay(TimeSpan.FromSeconds(3));
            GC.KeepAlive(workers);
            var idle = workers.Max(w => w.Status("VmRSS"));

            var spec = new JobSpec
            {
                Kind = WorkloadKind.Train,
                Model = sizes.Model,
                Dataset = new DatasetSpec { Synthetic = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Blobs, Samples = sizes.Samples, Seed = 3, Noise = 1 } },
                Rounds = sizes.Rounds,
                ShardsPerRound = sizes.Shards,
                LocalSteps = sizes.Steps,
                BatchSize = sizes.Batch,
                LearningRate = 0.05f,
                Seed = 5,
            };
            var job = await client.SubmitAsync(spec, maxHu: 1000);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var state = await client.JobAsync(job.JobId);
                if (state.State is "completed" or "failed" or "cancelled")
                {
                    if (state.State != "completed") throw new InvalidOperationException($"the job ended {state.State}: {state.FailureReason}");
                    break;
                }
                if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("the footprint job did not finish in 10 minutes");
                await Task.Delay(200);
            }
            var peak = workers.Max(w => w.Status("VmHWM"));
            var after = workers.Max(w => w.Status("VmRSS"));
            var slice = (double)sizes.Samples / sizes.Shards * (sizes.Model.InputSize + 1) * sizeof(float) / (1 << 20);
            var dataset = (double)sizes.Samples * (sizes.Model.InputSize + 1) * sizeof(float) / (1 << 20);
            var parameters = ModelRegistry.Get(sizes.Model.Type).ParameterCount(sizes.Model) * (double)sizeof(float) / (1 << 20);
            return
            [
                [
                    $"8: worker resident memory, {Describe(sizes)}, cpu",
                    $"{beforeTorch:N0} MB before libtorch, **{afterProbe:N0} MB** after the probe, **{idle:N0} MB** idle, **{peak:N0} MB** peak under shards, {after:N0} MB after",
                    $"Huginn.Worker.dll in its own process, VmRSS/VmHWM; dataset {dataset:N1} MB, slice {slice:N1} MB, weights {parameters:N1} MB",
                    "measured (no target)",
                ],
            ];
        }
        finally
        {
            foreach (var worker in workers) await worker.StopAsync();
        }
    }

    private static string Describe(Sizes s) =>
        $"MLP {s.Model.InputSize}-{string.Join("-", s.Model.HiddenSizes)}-{s.Model.OutputSize}, {s.Samples:N0} samples, batch {s.Batch}";

    private static async Task Until(Func<bool> condition, TimeSpan timeout, string what, List<ChildWorker> workers)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"waited {timeout} for {what}:\n{string.Join("\n", workers.Select(w => w.LastLines))}");
            await Task.Delay(100);
        }
    }

    /// <summary>One Worker process; its log lines tell when it probed and connected.</summary>
    private sealed class ChildWorker(Process process)
    {
        private readonly Queue<string> _lines = new();
        public volatile bool Connected;
        public double ProbeRssMb;
        /// <summary>What the worker logged of its own resident memory before libtorch loaded (the .NET runtime and the app).</summary>
        public double BeforeTorchMb;

        public static ChildWorker Start(string workerDll, Uri api, string token)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { workerDll, "--api", api.ToString(), "--token", token, "--threads", "1" }) start.ArgumentList.Add(arg);
            var worker = new ChildWorker(Process.Start(start) ?? throw new InvalidOperationException("the worker did not start"));
            worker.Attach();
            return worker;
        }

        private void Attach()
        {
            process.OutputDataReceived += (_, e) => Read(e.Data);
            process.ErrorDataReceived += (_, e) => Read(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        private void Read(string? line)
        {
            if (line is null) return;
            lock (_lines)
            {
                _lines.Enqueue(line);
                while (_lines.Count > 30) _lines.Dequeue();
            }
            if (line.Contains("hardware:", StringComparison.Ordinal))
            {
                ProbeRssMb = Status("VmRSS");
                var before = System.Text.RegularExpressions.Regex.Match(line, @"resident (\d+) MB before libtorch");
                if (before.Success) BeforeTorchMb = double.Parse(before.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            if (line.Contains("connected", StringComparison.OrdinalIgnoreCase)) Connected = true;
        }

        public string LastLines
        {
            get
            {
                lock (_lines) return string.Join("\n", _lines);
            }
        }

        /// <summary>A memory line of /proc/PID/status (VmRSS, VmHWM) in MB.</summary>
        public double Status(string field)
        {
            foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
            {
                if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
                var kb = long.Parse(line[(field.Length + 1)..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
            throw new InvalidOperationException($"/proc/{process.Id}/status has no {field}");
        }

        public async Task StopAsync()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }
}
