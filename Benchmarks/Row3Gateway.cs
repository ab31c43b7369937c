using System.Diagnostics;
using System.Globalization;
using Huginn.Demo;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Protocol;
using Huginn.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Huginn.Benchmarks;

/// <summary>
/// Row 3: the worker gateway. A local pool (silo + Api on 127.0.0.1, as <c>dotnet run --project Demo</c> runs
/// it) with many simulated workers, each a real WebSocket speaking protocol v1. Measured: assignments per
/// second delivered to workers, the latency from the publish on the device stream to the worker's decoded
/// frame (against a bare loopback WebSocket hop measured in the same windows), and blob download speed
/// against a raw loopback socket copy of the same bytes. The latency is measured twice in the same run: with
/// the memory streams' former 20 ms poll period and with the current default.
/// </summary>
public static class Row3Gateway
{
    /// <param name="Workers">Simulated workers (devices), each on its own socket.</param>
    /// <param name="Owners">Contributor accounts the devices are spread over (audits need two owners).</param>
    /// <param name="Slots">Slots each device registers.</param>
    /// <param name="ShardsPerJob">Shards of each tiny inference job.</param>
    /// <param name="ConcurrentJobs">Jobs kept running at once in the loaded phase (the light phase runs one).</param>
    /// <param name="PacedPerSecond">Rate of the paced direct publishing.</param>
    /// <param name="MaxInFlight">Direct assignments published but not yet received, at most, when saturating.</param>
    /// <param name="Window">Length of each measuring window.</param>
    /// <param name="WarmUp">Jobs run before measuring (JIT, activations, the weights blob in the cache).</param>
    /// <param name="BlobBytes">Size of the blob downloaded.</param>
    /// <param name="BlobRepeats">Downloads (and raw copies) timed; the best of each counts.</param>
    public sealed record Sizes(
        int Workers, int Owners, int Slots, int ShardsPerJob, int ConcurrentJobs, double PacedPerSecond, int MaxInFlight,
        TimeSpan Window, TimeSpan WarmUp, int BlobBytes, int BlobRepeats);

    public static Sizes Full { get; } = new(1000, 20, 2, 100, 8, 200, 1000,
        TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(6), 64 * 1024 * 1024, 7);

    public static Sizes Smoke { get; } = new(20, 4, 2, 20, 2, 100, 100,
        TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(0.3), 1024 * 1024, 2);

    /// <summary>The memory mode's device-stream queues: how many, and how often each is polled.</summary>
    private sealed record StreamSettings(int Queues, TimeSpan PollPeriod)
    {
        public override string ToString() => $"{Queues} queues polled every {PollPeriod.TotalMilliseconds:F0} ms";
    }

    /// <summary>The memory streams' settings before row 3 measured them.</summary>
    private static readonly StreamSettings Former = new(8, TimeSpan.FromMilliseconds(20));

    private static readonly StreamSettings Current = new(DeviceStreams.DefaultMemoryQueues, HuginnSiloExtensions.DefaultMemoryStreamPollPeriod);

    /// <summary>A tiny job that takes longer than this is a failure (they take 1–10 s here), and it bounds the run.</summary>
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(45);

    public static async Task<List<string[]>> RunAsync(Sizes sizes)
    {
        await using var probe = await Row3Probe.StartAsync();
        var before = await RunPoolAsync(sizes, probe, Former, everything: false);
        var after = await RunPoolAsync(sizes, probe, Current, everything: true);

        var fleet = $"{sizes.Workers:N0} workers on {sizes.Owners} owners, {sizes.Slots} slots each (set-up: register {after.Registered.TotalSeconds:F1} s, connect {after.Connected.TotalSeconds:F1} s)";
        var rows = new List<string[]>
        {
            Throughput($"3: assignments/s, gateway alone (direct publish, ≤ {sizes.MaxInFlight:N0} in flight), {Current}", after.Saturated!,
                $"{fleet}; the latency here is queueing (Little's law), not the target's"),
            Throughput($"3: assignments/s, real jobs ({sizes.ConcurrentJobs} × {sizes.ShardsPerJob}-shard tiny inference jobs at a time), {Current}", after.Loaded!,
                $"{after.Loaded!.Driven} jobs completed, {Unavailable} job polls answered 503 in the whole run; the gateway alone carried "
                + $"{after.Saturated!.PerSecond / after.Loaded!.PerSecond:F1}× this: the job pipeline (row 1), on the same cores, sets the pace"),
        };
        foreach (var (run, streams) in new[] { (before, Former), (after, Current) })
        {
            rows.Add(Latency($"3: publish → worker latency, direct publish {sizes.PacedPerSecond:F0}/s, {streams}", run.Paced));
            rows.Add(Latency($"3: publish → worker latency, real jobs one at a time, {streams}", run.Light));
        }
        rows.Add(Latency($"3: publish → worker latency, real jobs {sizes.ConcurrentJobs} at a time, {Current}", after.Loaded!));
        var blob = after.Blob!;
        rows.Add([
            $"3: blob download, {sizes.BlobBytes / (1024.0 * 1024):F0} MiB, GET /v1/blobs/{{id}} with a device token",
            $"{blob.StreamedMBps:F0} MB/s streamed in 64 KiB reads; the worker's BlobCache {blob.WorkerPathMBps:F0} MB/s (with its SHA-256 check, {blob.Sha256.TotalMilliseconds:F0} ms alone)",
            $"raw loopback TCP copy {blob.RawMBps:F0} MB/s (64 KiB writes and reads); best of {sizes.BlobRepeats}, interleaved",
            $"{blob.StreamedMBps / blob.RawMBps:P0} of raw (BlobCache {blob.WorkerPathMBps / blob.RawMBps:P0}); target ≥ 50 %: {(blob.StreamedMBps * 2 >= blob.RawMBps ? "met" : "missed")}",
        ]);
        rows.Add([
            "3: idle cost, every worker connected, no work",
            string.Join("; ", new[] { (before, Former), (after, Current) }.Select(r =>
                $"{r.Item2}: {r.Item1.Idle.CpuCores:F2} cores busy, {r.Item1.Idle.Polls / r.Item1.Idle.Window.TotalSeconds:F0} queue polls/s")),
            "process CPU time ÷ wall time: heartbeats (every 10 s a worker), device watchdogs, the queues' pulling agents, the probe",
            "",
        ]);
        return rows;
    }

    private static string[] Throughput(string what, Phase p, string detail) =>
    [
        what,
        $"{p.PerSecond:F0} assignments/s ({p.Count:N0} in {p.Window.TotalSeconds:F0} s, to {p.DistinctWorkers:N0} distinct workers); latency p50 {p.Total.P50:F0} / p99 {p.Total.P99:F0} ms",
        $"{detail}; CPU {p.CpuCores:F2} of {Environment.ProcessorCount} cores; GC: {p.AllocatedMBps:F0} MB/s allocated, pauses {p.GcPauses.TotalMilliseconds:F0} ms in {p.Collections} collections ({p.Gen2Collections} gen2)",
        "",
    ];

    private static string[] Latency(string what, Phase p) =>
    [
        what,
        $"p50 {p.Total.P50:F1} ms, p99 {p.Total.P99:F1} ms, max {p.Total.Max:F1} ms (n = {p.Total.Count:N0}); queue wait p50 {p.QueueWait.P50:F1} / p99 {p.QueueWait.P99:F1} ms, "
            + $"agent → Api p50 {p.AgentToApi.P50:F1} / p99 {p.AgentToApi.P99:F1} ms, Api → worker p50 {p.ApiToWorker.P50:F1} / p99 {p.ApiToWorker.P99:F1} ms",
        $"bare loopback WebSocket hop, same window: p50 {p.Probe.P50:F2} / p99 {p.Probe.P99:F1} ms (n = {p.Probe.Count:N0}); {p.PerSecond:F0} assignments/s; CPU {p.CpuCores:F2} cores; "
            + $"GC: {p.AllocatedMBps:F0} MB/s allocated, pauses {p.GcPauses.TotalMilliseconds:F0} ms in {p.Window.TotalSeconds:F0} s, {p.Collections} collections ({p.Gen2Collections} gen2)",
        $"target p99 ≤ 20 ms: {(p.Total.P99 <= 20 ? "met" : "missed")}",
    ];

    private sealed record PoolRun(TimeSpan Registered, TimeSpan Connected, Idle Idle, Phase Paced, Phase Light, Phase? Loaded, Phase? Saturated, Row3BlobCopy.Result? Blob);

    /// <summary>
    /// One pool with the given poll period: workers registered and connected, a warm-up, then the phases.
    /// <paramref name="everything"/>: also the throughput phases and the blob, which do not depend on the period.
    /// </summary>
    private static async Task<PoolRun> RunPoolAsync(Sizes sizes, Row3Probe probe, StreamSettings streams, bool everything)
    {
        // Nothing may throttle the benchmark: one client key submits and polls every job, and the set-up
        // calls come from one address.
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Api:RequestsPerSecond"] = "1000000",
            ["Huginn:Api:RequestBurst"] = "1000000",
            [HuginnSiloExtensions.MemoryStreamPollPeriodKey] = streams.PollPeriod.ToString(),
            [DeviceStreams.MemoryQueuesKey] = streams.Queues.ToString(CultureInfo.InvariantCulture),
        }).Build();
        await using var pool = await LocalPool.StartAsync(settings, configureSilo: silo => silo.AddIncomingGrainCallFilter<Row3StreamClock>());
        using var fleet = new Row3Fleet(pool.ApiUrl);
        using var anonymous = new PoolClient(pool.ApiUrl);
        using var client = anonymous.As((await anonymous.CreateAccountAsync("row3-client", "client")).ApiKey);
        await client.BuyAsync(1_000);

        var setUp = Stopwatch.StartNew();
        var devices = await RegisterDevicesAsync(anonymous, sizes);
        var registered = setUp.Elapsed;
        var workers = devices.Select(d => new Row3Worker(d.DeviceId, d.Token, fleet)).ToList();
        try
        {
            await ForEachAsync(workers, 64, w => w.ConnectAsync(CancellationToken.None));
            var connected = setUp.Elapsed - registered;

            Row3StreamClock.Start();
            await RunJobsAsync(client, sizes.ShardsPerJob, sizes.ConcurrentJobs, sizes.WarmUp);
            var idle = await IdleAsync(sizes.Window / 3);
            var direct = new Row3Direct(pool.Services.GetRequiredService<IClusterClient>(), devices.Select(d => d.DeviceId).ToList(),
                fleet.Template ?? throw new InvalidOperationException("no worker received an assignment in the warm-up"), fleet);

            // The direct path's own warm-up (JIT), so that neither pool measures it cold.
            await direct.PacedAsync(sizes.PacedPerSecond, sizes.WarmUp / 4);
            var paced = await MeasureAsync(workers, fleet, probe, sizes.Window, () => direct.PacedAsync(sizes.PacedPerSecond, sizes.Window));
            var light = await MeasureAsync(workers, fleet, probe, sizes.Window, () => RunJobsAsync(client, sizes.ShardsPerJob, 1, sizes.Window));
            Phase? loaded = null, saturated = null;
            Row3BlobCopy.Result? blob = null;
            if (everything)
            {
                loaded = await MeasureAsync(workers, fleet, probe, sizes.Window, () => RunJobsAsync(client, sizes.ShardsPerJob, sizes.ConcurrentJobs, sizes.Window));
                saturated = await MeasureAsync(workers, fleet, probe, sizes.Window, () => direct.SaturatedAsync(sizes.MaxInFlight, 16, sizes.Window));
                blob = await Row3BlobCopy.MeasureAsync(client, pool.ApiUrl, sizes.BlobBytes, sizes.BlobRepeats);
            }
            Row3StreamClock.Stop();
            CheckWorkers(workers);
            Console.Error.WriteLine($"row 3, {streams}: {workers.Count} workers registered in {registered.TotalSeconds:F1} s, connected in {connected.TotalSeconds:F1} s; "
                + $"{workers.Sum(w => w.Accepted)} results accepted, {fleet.InputDownloads} input blob(s) downloaded; "
                + $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC");
            return new PoolRun(registered, connected, idle, paced, light, loaded, saturated, blob);
        }
        finally
        {
            Row3StreamClock.Stop();
            await ForEachAsync(workers, 128, w => w.CloseAsync(TimeSpan.FromSeconds(5)));
        }
    }

    private sealed record Device(string DeviceId, string Token);

    /// <summary>Contributor accounts, then devices spread evenly over them, through the HTTP API as a contributor would.</summary>
    private static async Task<List<Device>> RegisterDevicesAsync(PoolClient anonymous, Sizes sizes)
    {
        var owners = new List<PoolClient>();
        for (var i = 0; i < sizes.Owners; i++)
            owners.Add(anonymous.As((await anonymous.CreateAccountAsync($"row3-owner-{i}", "contributor")).ApiKey));
        var capabilities = new DeviceCapabilitiesDto("cpu", null, null, Gflops: 100, CpuCores: 4, MemoryMb: 16_384, Runtimes: ["torch"], Slots: sizes.Slots);
        var devices = new Device[sizes.Workers];
        await ForEachAsync(Enumerable.Range(0, sizes.Workers), 32, async i =>
        {
            var registered = await owners[i % owners.Count].RegisterDeviceAsync($"row3-{i}", capabilities);
            devices[i] = new Device(registered.DeviceId, registered.DeviceToken);
        });
        foreach (var owner in owners) owner.Dispose();
        return [.. devices];
    }

    /// <summary>Keeps <paramref name="concurrent"/> jobs running until <paramref name="duration"/> has passed; answers the jobs completed.</summary>
    private static async Task<int> RunJobsAsync(PoolClient client, int shards, int concurrent, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var completed = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrent).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                // One seed for every job: the weights blob is the same, so the fleet downloads it once.
                var submitted = await client.SubmitAsync(BenchCluster.TinyInference(shards, seed: 3));
                var job = await WaitAsync(client, submitted.JobId);
                if (job.State != "completed") throw new InvalidOperationException($"job {job.JobId} ended {job.State}: {job.FailureReason}");
                Interlocked.Increment(ref completed);
            }
        }));
        return completed;
    }

    private static int _unavailable;

    /// <summary>Job polls answered 503 (a grain call timed out behind a busy job grain) and retried, in the whole run.</summary>
    public static int Unavailable => Volatile.Read(ref _unavailable);

    private static async Task<Huginn.Api.Apis.JobResponse> WaitAsync(PoolClient client, string jobId)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Huginn.Api.Apis.JobResponse job;
            try
            {
                job = await client.JobAsync(jobId);
            }
            catch (HttpRequestException ex) when (ex.Message.StartsWith("503", StringComparison.Ordinal) && clock.Elapsed < JobTimeout)
            {
                // "Retry in a few seconds", as a client should; counted, since it is a finding of its own.
                Interlocked.Increment(ref _unavailable);
                await Task.Delay(500);
                continue;
            }
            if (job.State is "completed" or "failed" or "cancelled") return job;
            if (clock.Elapsed > JobTimeout)
                throw new TimeoutException($"job {jobId} not finished after {JobTimeout}: {job.State}, {job.Progress.ShardsDone}/{job.Progress.ShardsTotal} shards");
            await Task.Delay(50);
        }
    }

    public sealed record Percentiles(int Count, double P50, double P99, double Max)
    {
        public static Percentiles Of(List<double> values)
        {
            if (values.Count == 0) return new(0, double.NaN, double.NaN, double.NaN);
            values.Sort();
            return new(values.Count, At(values, 0.50), At(values, 0.99), values[^1]);
        }

        /// <summary>Nearest-rank percentile.</summary>
        private static double At(List<double> sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    /// <param name="Driven">What the driver reports: jobs completed, or direct assignments published.</param>
    private sealed record Phase(
        TimeSpan Window, int Count, double PerSecond, int DistinctWorkers, int Driven, double CpuCores,
        Percentiles Total, Percentiles QueueWait, Percentiles AgentToApi, Percentiles ApiToWorker, Percentiles Probe,
        TimeSpan GcPauses, int Collections, int Gen2Collections, double AllocatedMBps);

    /// <summary>
    /// Drives load for the window and takes every assignment a worker received inside it: the count gives the
    /// rate; the silo's timestamps for the same lease give the latency and where it was spent.
    /// </summary>
    private static async Task<Phase> MeasureAsync(List<Row3Worker> workers, Row3Fleet fleet, Row3Probe probe, TimeSpan window, Func<Task<int>> drive)
    {
        var before = workers.Select(w => w.Assignments).ToArray();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var (gcPauses, collections, gen2, allocated) = (GC.GetTotalPauseDuration(), GC.CollectionCount(0), GC.CollectionCount(2), GC.GetTotalAllocatedBytes());
        var start = Stopwatch.GetTimestamp();
        // The driver keeps load on until the window closes; what is still running then finishes after it, uncounted.
        var driving = drive();
        await Task.Delay(window);
        var end = Stopwatch.GetTimestamp();
        var cpuCores = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / Stopwatch.GetElapsedTime(start, end).TotalSeconds;
        (gcPauses, collections, gen2, allocated) = (GC.GetTotalPauseDuration() - gcPauses, GC.CollectionCount(0) - collections,
            GC.CollectionCount(2) - gen2, GC.GetTotalAllocatedBytes() - allocated);
        var distinct = workers.Select((w, i) => w.Assignments - before[i]).Count(n => n > 0);
        var driven = await driving;

        List<double> total = [], queueWait = [], agentToApi = [], apiToWorker = [];
        var count = 0;
        foreach (var (lease, received) in fleet.Received)
        {
            if (received < start || received >= end) continue;
            count++;
            if (!Row3StreamClock.Published.TryGetValue(lease, out var published)) continue;
            total.Add(Ms(published, received));
            var pulled = Row3StreamClock.Dequeued.TryGetValue(lease, out var p) ? p : (long?)null;
            var atApi = Row3StreamClock.AtApi.TryGetValue(lease, out var a) ? a : (long?)null;
            if (pulled is { } pulledAt) queueWait.Add(Ms(published, pulledAt));
            if (pulled is { } from && atApi is { } to) agentToApi.Add(Ms(from, to));
            if (atApi is { } handedOver) apiToWorker.Add(Ms(handedOver, received));
        }
        var elapsed = Stopwatch.GetElapsedTime(start, end);
        return new Phase(elapsed, count, count / elapsed.TotalSeconds, distinct, driven, cpuCores,
            Percentiles.Of(total), Percentiles.Of(queueWait), Percentiles.Of(agentToApi), Percentiles.Of(apiToWorker), probe.Between(start, end),
            gcPauses, collections, gen2, allocated / elapsed.TotalSeconds / 1e6);
    }

    private sealed record Idle(TimeSpan Window, double CpuCores, long Polls);

    /// <summary>CPU the process burns with every worker connected and nothing to do.</summary>
    private static async Task<Idle> IdleAsync(TimeSpan window)
    {
        // Let the warm-up's last results settle first.
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(0.5, window.TotalSeconds)));
        var polls = Row3StreamClock.Polls;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await Task.Delay(window);
        var elapsed = clock.Elapsed;
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        return new Idle(elapsed, used.TotalSeconds / elapsed.TotalSeconds, Row3StreamClock.Polls - polls);
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    private static void CheckWorkers(List<Row3Worker> workers)
    {
        var problems = workers.SelectMany(w => w.Problems.Select(p => $"{w.DeviceId}: {p}")).ToList();
        if (problems.Count > 0)
            throw new InvalidOperationException($"{problems.Count} worker problem(s), first: {string.Join(" | ", problems.Take(5))}");
    }

    private static Task ForEachAsync<T>(IEnumerable<T> items, int parallelism, Func<T, Task> action) =>
        Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (item, _) => await action(item));
}
