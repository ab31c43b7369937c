using System.Diagnostics;
using System.Globalization;
using Huginn.Api.Apis;
using Huginn.Demo;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Worker.Agent;
using Huginn.Worker.Hardware;
using Huginn.Workloads;
using Microsoft.Extensions.Configuration;

namespace Huginn.Benchmarks;

/// <summary>
/// Row 4, the pool host's own cost: CPU of the process that runs the silo and the Api (coordinator + edge) per
/// settled shard, and its managed heap, while two real workers in <em>their own processes</em> train through it
/// over loopback (WebSocket frames, and <c>POST /v1/blobs</c> for a result larger than a frame). The workers'
/// compute and agents are not in this process, so its CPU is the host's alone (plus this harness's status polls).
/// Target: ≤ 5 ms + 2 ms per MB of result a shard; silo memory per running job ≤ 4 model copies.
/// </summary>
public static class Row4HostCost
{
    /// <param name="TargetSeconds">Compute a shard should take on one thread, from the probe's GFLOP/s (steps of <paramref name="Batch"/>).</param>
    public sealed record Case(string Name, ModelSpec Model, int Rounds, int ShardsPerRound, int Batch, double TargetSeconds);

    /// <summary>The README's MLP: 669,706 parameters, a 2.7 MB delta (under a frame: the result rides in the frame).</summary>
    public static readonly ModelSpec Small = new()
    {
        Type = ModelSpec.Mlp, InputSize = 784, HiddenSizes = [512, 512], OutputSize = 10, Loss = ModelSpec.CrossEntropy,
    };

    /// <summary>28,407,818 parameters, a 113.6 MB delta: more than a frame, so every result goes up as a blob.</summary>
    public static readonly ModelSpec Big = new()
    {
        Type = ModelSpec.Mlp, InputSize = 784, HiddenSizes = [4096, 4096, 2048], OutputSize = 10, Loss = ModelSpec.CrossEntropy,
    };

    public static Case[] Full { get; } = [new("MLP 784-512-512-10", Small, 2, 8, 128, 1.0), new("MLP 784-4096-4096-2048-10", Big, 2, 4, 32, 1.0)];
    /// <summary>The small model only: the big one's blobs take ~40 s on this machine, too long for CI's smoke run.</summary>
    public static Case[] Smoke { get; } = [new("MLP 784-512-512-10", Small, 1, 2, 128, 0.05)];

    /// <summary>Blobs up to 256 MiB: the 113.6 MB delta and weights exceed the 64 MiB default.</summary>
    private const long MaxBlobBytes = 256L << 20;

    private const int Workers = 2;

    public static async Task<List<string[]>> RunAsync(Case[] cases, HardwareProfile profile)
    {
        var rows = new List<string[]>();
        foreach (var c in cases) rows.Add(await RunCaseAsync(c, profile));
        return rows;
    }

    private static async Task<string[]> RunCaseAsync(Case c, HardwareProfile profile)
    {
        var definition = ModelRegistry.Get(c.Model.Type);
        var parameters = definition.ParameterCount(c.Model);
        var resultMb = parameters * 4 / 1e6;
        var samplesPerSecond = profile.Gflops * 1e9 / (3.0 * definition.ForwardFlopsPerSample(c.Model));
        var steps = (int)Math.Clamp(Math.Round(c.TargetSeconds * samplesPerSecond / c.Batch), 1, SpecValidator.MaxLocalSteps);

        // The directory store, as a stand-alone silo and Api use it: blobs on disk, not on the heap measured here.
        var folder = Directory.CreateTempSubdirectory("huginn-row4-blobs-");
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Blobs:Store"] = "directory",
            ["Huginn:Blobs:Path"] = folder.FullName,
            ["Huginn:Blobs:MaxBlobBytes"] = MaxBlobBytes.ToString(CultureInfo.InvariantCulture),
            ["Huginn:Pool:PartitionsPerClass"] = "1",
        }).Build();
        var pool = await LocalPool.StartAsync(settings);
        var workers = new List<WorkerProcess>();
        try
        {
            using var anonymous = new PoolClient(pool.ApiUrl);
            var client = anonymous.As((await anonymous.CreateAccountAsync("trainer", "client")).ApiKey);
            await client.BuyAsync(100);
            for (var i = 0; i < Workers; i++)
            {
                var owner = anonymous.As((await anonymous.CreateAccountAsync($"worker-{i + 1}", "contributor")).ApiKey);
                var device = await owner.RegisterDeviceAsync($"worker-{i + 1}", TorchShardExecutor.Capabilities(profile, WorkerOptions.DefaultSlots));
                // Trusted: on the 5 % audit floor, as a steady-state pool is (row 1 does the same).
                var grain = pool.Grains.GetGrain<IDeviceGrain>(device.DeviceId);
                for (var v = 0; v < 60; v++)
                    await grain.RecordVerdictAsync(new VerdictNotice(new ShardRef("trust-up", 0, v, 0), $"trust-{device.DeviceId}-{v}", Verdict.Verified));
                workers.Add(WorkerProcess.Start(pool.ApiUrl, device.DeviceToken));
                await Row4TrainingPool.UntilAsync(() => owner.DeviceAsync(device.DeviceId), d => d.Status == "online", $"worker-{i + 1} online", TimeSpan.FromSeconds(60));
            }

            // Warm-up: JIT in both processes, libtorch's first calls in the workers, grain activations.
            var warm = await RunJobAsync(client, Spec(c with { Rounds = 1, ShardsPerRound = 2 }, 1, 1), TimeSpan.FromSeconds(120));

            // What the idle host costs (heartbeats, stream polls, timers, this harness's polls at the same rate), per second.
            var idleCpu = Row4CpuClock.ProcessSeconds();
            var idleClock = Stopwatch.StartNew();
            while (idleClock.Elapsed < TimeSpan.FromSeconds(3))
            {
                await client.JobAsync(warm.JobId);
                await Task.Delay(50);
            }
            var idleCpuPerSecond = (Row4CpuClock.ProcessSeconds() - idleCpu) / idleClock.Elapsed.TotalSeconds;

            foreach (var worker in workers) worker.Spans.Clear();
            var spec = Spec(c, steps, 2);
            var run = await RunJobAsync(client, spec, TimeSpan.FromSeconds(300));
            var done = run.Job.Progress.ShardsDone;
            var perShard = run.CpuSeconds / done;
            var perShardBesidesIdle = (run.CpuSeconds - idleCpuPerSecond * run.Seconds) / done;
            var target = 5 + 2 * resultMb;
            var spans = workers.SelectMany(w => w.Spans).ToList();
            var modelBytes = parameters * 4.0;
            return
            [
                $"4: pool host CPU per shard, {c.Name} ({resultMb:F1} MB result{(resultMb * 1e6 > Huginn.Protocol.Frame.DefaultMaxFrameBytes ? ", uploaded as a blob" : ", in the frame")}; {c.Rounds} rounds × {c.ShardsPerRound}, {steps} steps × {c.Batch}, 2 worker processes)",
                $"**{perShard * 1000:F1} ms** of silo + Api process CPU per settled shard besides compute ({perShardBesidesIdle * 1000:F1} ms less the idle host's {idleCpuPerSecond * 1000:F0} ms/s); "
                    + $"{done} shards in {run.Seconds:F2} s, {spans.Count} results computed (audits included), shard compute {(spans.Count == 0 ? 0 : spans.Average(s => s.Seconds)):F2} s in the workers; "
                    + $"host heap peak {run.PeakHeapBytes / 1e6:F0} MB above the {run.BaselineHeapBytes / 1e6:F0} MB before the job = {run.PeakHeapBytes / modelBytes:F1} model copies "
                    + $"(after-GC heap peak {run.PeakHeapAfterGcBytes / 1e6:F0} MB above = {run.PeakHeapAfterGcBytes / modelBytes:F1} copies); GC pauses {run.GcPauseSeconds / run.Seconds:P1} of the time",
                $"process CPU time of this process (silo, Api, harness polls every 50 ms) from submit to completion ÷ shards done; the workers run in their own processes; blobs in a directory store, MaxBlobBytes {MaxBlobBytes >> 20} MiB",
                $"≤ {target:F1} ms (5 + 2 × {resultMb:F1} MB): {(perShard * 1000 <= target ? "met" : "missed")}; ≤ 4 model copies: {(run.PeakHeapBytes <= 4 * modelBytes ? "met" : "missed")}",
            ];
        }
        finally
        {
            foreach (var worker in workers) await worker.StopAsync();
            await pool.DisposeAsync();
            folder.Delete(recursive: true);
        }
    }

    private sealed record HostRun(JobResponse Job, double Seconds, double CpuSeconds, double GcPauseSeconds, long BaselineHeapBytes, long PeakHeapBytes, long PeakHeapAfterGcBytes)
    {
        public string JobId => Job.JobId;
    }

    private static async Task<HostRun> RunJobAsync(PoolClient client, JobSpec spec, TimeSpan timeout)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = baseline, peakAfterGc = GC.GetGCMemoryInfo().HeapSizeBytes;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            // The heap as allocated (garbage not yet collected included), and as the last GC left it.
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                peakAfterGc = Math.Max(peakAfterGc, GC.GetGCMemoryInfo().HeapSizeBytes);
                try { await Task.Delay(5, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        var cpuAtSubmit = Row4CpuClock.ProcessSeconds();
        var gcAtSubmit = GC.GetTotalPauseDuration();
        var submittedAt = DateTimeOffset.UtcNow;
        var submitted = await client.SubmitAsync(spec);
        var job = await Row4TrainingPool.UntilAsync(() => client.JobAsync(submitted.JobId), j => j.State is "completed" or "failed" or "cancelled", $"job {submitted.JobId} finished", timeout, poll: 50);
        var cpu = Row4CpuClock.ProcessSeconds() - cpuAtSubmit;
        var gc = (GC.GetTotalPauseDuration() - gcAtSubmit).TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        if (job.State != "completed") throw new InvalidOperationException($"job {submitted.JobId} ended {job.State}: {job.FailureReason}");
        return new HostRun(job, (job.FinishedAt!.Value - submittedAt).TotalSeconds, cpu, gc, baseline, peak - baseline, Math.Max(0, peakAfterGc - baseline));
    }

    private static JobSpec Spec(Case c, int steps, ulong seed) => new()
    {
        Kind = WorkloadKind.Train,
        Model = c.Model,
        Dataset = new DatasetSpec
        {
            Synthetic = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Blobs, Samples = (long)c.ShardsPerRound * 256, Seed = seed, Noise = 1.5 },
        },
        Rounds = c.Rounds,
        ShardsPerRound = c.ShardsPerRound,
        LocalSteps = steps,
        BatchSize = c.Batch,
        LearningRate = 0.05f,
        Seed = seed,
    };
}
