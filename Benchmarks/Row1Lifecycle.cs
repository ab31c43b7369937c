using System.Diagnostics;
using Huginn.Simulation;

namespace Huginn.Benchmarks;

/// <summary>
/// Row 1: a shard's whole life (submit → route → lease → result → verify → settle) against the cheapest grain
/// call on the same cluster, both measured in the same run.
/// </summary>
public static class Row1Lifecycle
{
    public sealed record Sizes(int Devices, int Slots, int[] Shards, int ConcurrentJobs, TimeSpan EchoDuration, int EchoCallers);

    public static Sizes Full { get; } = new(16, 4, [100, 300, 1000], 4, TimeSpan.FromSeconds(5), 64);
    public static Sizes Smoke { get; } = new(4, 2, [40], 2, TimeSpan.FromSeconds(0.5), 16);

    public static async Task<List<string[]>> RunAsync(Sizes sizes)
    {
        await using var cluster = await BenchCluster.StartAsync(_ => { });
        var rows = new List<string[]>();

        // Warm-up: activations, the partitions and directory, JIT.
        await EchoAsync(cluster, TimeSpan.FromSeconds(0.3), sizes.EchoCallers);
        var clientId = await cluster.Pool.CreateClientAsync(hu: 1_000_000);
        var warmUp = await AddDevicesAsync(cluster, sizes);
        await RunJobAsync(cluster, clientId, 40, seed: 1);
        await DisconnectAsync(warmUp);

        var echo1 = await EchoAsync(cluster, sizes.EchoDuration, sizes.EchoCallers);
        var runs = new List<(string Name, JobRun Run)>();
        var seed = 10UL;
        foreach (var shards in sizes.Shards)
        {
            // New devices: every shard audited until each has 3 confirmed audits, then 3 / verified, down to 5 %.
            var fresh = await AddDevicesAsync(cluster, sizes);
            runs.Add(($"{shards} shards, new devices", await RunJobAsync(cluster, clientId, shards, seed++)));
            await DisconnectAsync(fresh);
            // Trusted devices: a record of 60 confirmed audits puts them on the 5 % floor from the first shard.
            var trusted = await AddDevicesAsync(cluster, sizes);
            foreach (var device in trusted) await BenchCluster.TrustAsync(device, 60);
            runs.Add(($"{shards} shards, trusted devices", await RunJobAsync(cluster, clientId, shards, seed++)));
            await DisconnectAsync(trusted);
        }
        // Jobs are independent grains: several at once show the pool's rate rather than one job's.
        var shared = await AddDevicesAsync(cluster, sizes);
        foreach (var device in shared) await BenchCluster.TrustAsync(device, 60);
        var concurrentShards = sizes.Shards[^1];
        runs.Add(($"{sizes.ConcurrentJobs} jobs × {concurrentShards} shards at once, trusted devices",
            await RunJobAsync(cluster, clientId, concurrentShards, seed++, sizes.ConcurrentJobs)));
        await DisconnectAsync(shared);
        var echo2 = await EchoAsync(cluster, sizes.EchoDuration, sizes.EchoCallers);
        var echo = (echo1 + echo2) / 2;

        foreach (var (name, r) in runs)
        {
            rows.Add([
                $"1: {name}",
                $"{r.ShardsPerSecond:F0} shards/s; {r.CallsPerShard:F1} calls/shard; {r.Results / (double)r.Shards:F2} results/shard; CPU {r.CpuPercent:F0} % of {Environment.ProcessorCount} cores",
                $"echo {echo:F0} calls/s ({sizes.EchoCallers} callers; before {echo1:F0}, after {echo2:F0})",
                $"1/{echo / r.ShardsPerSecond:F0} of raw; target ≥ 1/8: {(r.ShardsPerSecond * 8 >= echo ? "met" : "missed")}",
            ]);
        }
        foreach (var (name, r) in runs.TakeLast(3))
            rows.Add([$"1: calls per shard, {name}", string.Join(", ", r.Top.Take(14).Select(t => $"{t.Key} {t.Value:F2}")), "", ""]);
        return rows;
    }

    internal static Task<List<SimulatedDevice>> AddDevicesAsync(BenchCluster cluster, Sizes sizes) =>
        cluster.Pool.AddDevicesAsync(sizes.Devices, PoolSetup.Cpu(sizes.Slots), BenchCluster.HeartbeatEvery);

    internal static async Task DisconnectAsync(List<SimulatedDevice> devices)
    {
        foreach (var device in devices)
        {
            if (device.Errors.TryPeek(out var e)) throw new InvalidOperationException($"device {device.DeviceId} failed", e);
            await device.DisconnectAsync();
        }
    }

    internal sealed record JobRun(int Shards, double ShardsPerSecond, double CallsPerShard, long Results, double CpuPercent,
        IReadOnlyList<KeyValuePair<string, double>> Top, IReadOnlyList<KeyValuePair<string, double>> SlowestMeanMs);

    /// <summary>Submits <paramref name="jobs"/> jobs of <paramref name="shards"/> shards at once and waits for all of them.</summary>
    internal static async Task<JobRun> RunJobAsync(BenchCluster cluster, string clientId, int shards, ulong seed, int jobs = 1)
    {
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        CallCounter.Start();
        var clock = Stopwatch.StartNew();
        var waits = await Task.WhenAll(Enumerable.Range(0, jobs).Select(async j =>
        {
            var jobId = (await cluster.Pool.SubmitJobAsync(clientId, BenchCluster.TinyInference(shards, seed * 100 + (ulong)j))).JobId;
            return await cluster.WaitAsync(jobId, TimeSpan.FromMinutes(5));
        }));
        var elapsed = clock.Elapsed;
        var counts = CallCounter.Stop();
        var meanMs = CallCounter.MeanMilliseconds();
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds / elapsed.TotalSeconds / Environment.ProcessorCount * 100;
        foreach (var (job, _) in waits)
        {
            if (job.Status != Huginn.Grains.Interfaces.Jobs.JobStatus.Completed)
                throw new InvalidOperationException($"job {job.JobId} ended {job.Status}: {job.FailureReason}");
        }
        var total = shards * jobs;
        var polls = waits.Sum(w => w.Polls);
        // The harness's own polls are not the pool's work.
        var calls = counts.Values.Sum() - polls;
        var results = counts.Where(c => c.Key.Contains("SubmitResult", StringComparison.Ordinal)).Sum(c => c.Value);
        var top = counts
            .Select(c => KeyValuePair.Create(Short(c.Key), (c.Key.Contains("IJobGrain.Get", StringComparison.Ordinal) ? c.Value - polls : c.Value) / (double)total))
            .Where(c => c.Value >= 0.01)
            .OrderByDescending(c => c.Value)
            .ToList();
        var slowest = meanMs.OrderByDescending(m => m.Value).Take(8).Select(m => KeyValuePair.Create(Short(m.Key), m.Value)).ToList();
        return new JobRun(total, total / elapsed.TotalSeconds, calls / (double)total, results, cpu, top, slowest);
    }

    private static string Short(string name) => name.Replace("Huginn.Grains.Interfaces.", "", StringComparison.Ordinal);

    /// <summary>Concurrent callers each calling echo grains back to back; answers calls per second.</summary>
    public static async Task<double> EchoAsync(BenchCluster cluster, TimeSpan duration, int callers)
    {
        long calls = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async caller =>
        {
            var grain = cluster.Client.GetGrain<IEchoGrain>(caller % 16);
            long mine = 0;
            while (clock.Elapsed < duration)
            {
                await grain.EchoAsync(caller);
                mine++;
            }
            Interlocked.Add(ref calls, mine);
        }));
        return calls / clock.Elapsed.TotalSeconds;
    }
}
