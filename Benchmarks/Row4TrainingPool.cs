using System.Collections.Concurrent;
using System.Diagnostics;
using Huginn.Demo;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Protocol;
using Huginn.Worker.Agent;
using Huginn.Worker.Hardware;
using Huginn.Workloads;
using Microsoft.Extensions.Configuration;

namespace Huginn.Benchmarks;

/// <summary>
/// One training job through the pool, timed from the client's submit to the job's completion. CPU: the process's
/// (silo, Api, agents, this harness's polls) from submit until the harness saw the job complete, and the workers'
/// computing threads' inside the executor.
/// </summary>
public sealed record PoolRun(
    int Workers,
    int Slots,
    double Seconds,
    long AcceptedSamples,
    int ShardsDone,
    int ShardsAudited,
    int ResultsFromWorkers,
    int ResultsFromAuditor,
    long SamplesComputed,
    double MeanShardComputeSeconds,
    double WorkerBusyFraction,
    double MeanGapSeconds,
    double MeanRoundTurnaroundSeconds,
    double FirstShardSeconds,
    double TailSeconds,
    double CpuSeconds,
    double ComputeCpuSeconds,
    double GcPauseSeconds)
{
    public double SamplesPerSecond => AcceptedSamples / Seconds;
    /// <summary>CPU the whole process (silo, Api, agents) spent per computed shard besides the workers' executor calls.</summary>
    public double OtherCpuPerShard => (CpuSeconds - ComputeCpuSeconds) / Math.Max(1, ResultsFromWorkers);
    public double AuditFraction => ShardsDone == 0 ? 0 : ShardsAudited / (double)ShardsDone;
}

/// <summary>
/// A whole pool on loopback (<see cref="LocalPool"/>: one silo with the Api, in-memory storage) and real
/// TorchSharp workers: <see cref="WorkerAgent"/>s in this process, over real WebSockets, exactly as the edge tests
/// run them (Tests/Api/ApiPoolFixture.cs, RunningWorkers). Jobs go in through the HTTP API (<see cref="PoolClient"/>).
/// </summary>
/// <remarks>
/// Every device is trusted before the runs (a record of 60 confirmed audits, as row 1 does), so each shard is audited
/// with the 5 % floor's probability. A job is refused unless devices of two owners could run it: with one worker, a
/// second contributor's device is online as the auditor. It is a real <see cref="WorkerAgent"/> whose executor
/// answers from the in-process loop's outputs for the same shard (no compute), advertises 1/1000 of the worker's
/// GFLOP/s so that routing gives it a shard only when the worker is excluded (an audit of the worker's shard), and
/// is offline in the two-worker runs, where the workers audit each other with real compute.
/// </remarks>
public sealed class Row4TrainingPool : IAsyncDisposable
{
    private readonly LocalPool _pool;
    private readonly HardwareProfile _profile;
    private readonly PoolClient _client;
    private readonly Contributor[] _workers;
    private readonly Contributor _auditor;
    private readonly OracleExecutor _oracle = new();

    /// <summary>What the agents said, for the message of a run that failed.</summary>
    private readonly ConcurrentQueue<string> _log = new();

    private sealed record Contributor(string Name, PoolClient Owner, string DeviceId, string Token);

    private Row4TrainingPool(LocalPool pool, HardwareProfile profile, PoolClient client, Contributor[] workers, Contributor auditor) =>
        (_pool, _profile, _client, _workers, _auditor) = (pool, profile, client, workers, auditor);

    public static async Task<Row4TrainingPool> StartAsync(HardwareProfile profile, int maxWorkers)
    {
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            // One routing partition per hardware class: with the default 8, two devices of a class usually sit in
            // different partitions and a router compares only the devices of the partition it probes, so the
            // auditor's low speed would not keep it from being picked for a worker's shard.
            ["Huginn:Pool:PartitionsPerClass"] = "1",
            // Leases for the auditor's advertised speed (1/1000 of a worker's) stay within the limit.
            ["Huginn:Pool:MaxLeaseDuration"] = "1.00:00:00",
        }).Build();
        var pool = await LocalPool.StartAsync(settings);
        using var anonymous = new PoolClient(pool.ApiUrl);
        var account = await anonymous.CreateAccountAsync("trainer", "client");
        var client = anonymous.As(account.ApiKey);
        await client.BuyAsync(100);

        var workers = new Contributor[maxWorkers];
        for (var i = 0; i < maxWorkers; i++) workers[i] = await AddContributorAsync(pool, anonymous, $"worker-{i + 1}", WorkerCapabilities(profile, 1));
        var auditor = await AddContributorAsync(pool, anonymous, "auditor", AuditorCapabilities(profile));
        return new Row4TrainingPool(pool, profile, client, workers, auditor);
    }

    private static DeviceCapabilitiesDto WorkerCapabilities(HardwareProfile profile, int slots) =>
        TorchShardExecutor.Capabilities(profile) with { Slots = slots };

    /// <summary>The same hardware class as the workers (one partition), far slower, room for several audits at once.</summary>
    private static DeviceCapabilitiesDto AuditorCapabilities(HardwareProfile profile) =>
        TorchShardExecutor.Capabilities(profile) with { Gflops = Math.Max(0.1, Math.Round(profile.Gflops / 1000, 2)), Slots = 4 };

    private static async Task<Contributor> AddContributorAsync(LocalPool pool, PoolClient anonymous, string name, DeviceCapabilitiesDto capabilities)
    {
        var account = await anonymous.CreateAccountAsync(name, "contributor");
        var owner = anonymous.As(account.ApiKey);
        var device = await owner.RegisterDeviceAsync(name, capabilities);
        // Trusted: on the 5 % audit floor from the first shard, as a steady-state pool is (row 1 does the same).
        var grain = pool.Grains.GetGrain<IDeviceGrain>(device.DeviceId);
        for (var i = 0; i < 60; i++)
            await grain.RecordVerdictAsync(new VerdictNotice(new ShardRef("trust-up", 0, i, 0), $"trust-{device.DeviceId}-{i}", Verdict.Verified));
        return new Contributor(name, owner, device.DeviceId, device.DeviceToken);
    }

    /// <summary>
    /// Runs the job on <paramref name="workers"/> workers each holding up to <paramref name="slots"/> leases (they run
    /// one shard at a time either way). <paramref name="oracle"/>: the loop's outputs for this spec, the auditor's answers.
    /// </summary>
    public async Task<PoolRun> RunAsync(JobSpec spec, int workers, int slots, IReadOnlyDictionary<ShardKey, ShardOutput> oracle, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(workers, _workers.Length);
        _oracle.Use(spec.Seed, oracle);
        using var stop = new CancellationTokenSource();
        var running = new List<Task>();
        var agents = new List<(Contributor Who, WorkerAgent Agent, TimedExecutor? Timed)>();
        void Start(Contributor who, DeviceCapabilitiesDto capabilities, IShardExecutor executor, TimedExecutor? timed)
        {
            var agent = new WorkerAgent(new WorkerOptions { Api = _pool.ApiUrl, DeviceToken = who.Token, ShutdownGrace = TimeSpan.Zero, Slots = capabilities.Slots ?? 1 },
                capabilities, executor, line => Log(who.Name, line));
            running.Add(Task.Run(() => agent.RunAsync(stop.Token)));
            agents.Add((who, agent, timed));
        }
        foreach (var who in _workers.Take(workers))
        {
            var timed = new TimedExecutor(new TorchShardExecutor(_profile));
            Start(who, WorkerCapabilities(_profile, slots), timed, timed);
        }
        if (workers == 1) Start(_auditor, AuditorCapabilities(_profile), _oracle, null);

        try
        {
            foreach (var (who, _, _) in agents) await UntilAsync(() => who.Owner.DeviceAsync(who.DeviceId), d => d.Status == "online", $"{who.Name} online", TimeSpan.FromSeconds(30));

            var cpuAtSubmit = Row4CpuClock.ProcessSeconds();
            var gcAtSubmit = GC.GetTotalPauseDuration();
            var submittedAt = DateTimeOffset.UtcNow;
            var submittedTicks = Stopwatch.GetTimestamp();
            var submitted = await _client.SubmitAsync(spec);
            var job = await UntilAsync(() => _client.JobAsync(submitted.JobId), j => j.State is "completed" or "failed" or "cancelled", $"job {submitted.JobId} finished", timeout, poll: 50);
            var cpuSeconds = Row4CpuClock.ProcessSeconds() - cpuAtSubmit;
            var gcPause = (GC.GetTotalPauseDuration() - gcAtSubmit).TotalSeconds;
            if (job.State != "completed") throw new InvalidOperationException($"job {submitted.JobId} ended {job.State}: {job.FailureReason}");

            // Wall time: the client's submit to the job's own completion time (same clock, no poll granularity).
            var seconds = (job.FinishedAt!.Value - submittedAt).TotalSeconds;
            var plan = JobPlanner.Plan(spec);
            var samplesPerShard = (long)plan.Steps * plan.BatchSize;
            var fromWorkers = agents.Where(a => a.Timed is not null).Sum(a => a.Agent.Accepted.Shards);
            var fromAuditor = agents.Where(a => a.Timed is null).Sum(a => a.Agent.Accepted.Shards);
            var spans = agents.Where(a => a.Timed is not null).Select(a => a.Timed!.Spans).ToList();
            var busy = spans.Sum(s => s.Sum(x => x.Seconds));
            var executed = spans.Sum(s => s.Count);
            // A worker's idle time between two shards of the same round: what queued leases should hide.
            var inRoundGaps = spans.SelectMany(s => s.Zip(s.Skip(1)).Where(p => p.First.Round == p.Second.Round)
                .Select(p => p.Second.StartSeconds(submittedTicks) - p.First.EndSeconds(submittedTicks))).ToList();
            // From a round's last compute (any worker) to the next round's first: the federated barrier (result,
            // average, new weights blob, dispatch, download).
            var all = spans.SelectMany(s => s).ToList();
            var turnarounds = Enumerable.Range(1, plan.Rounds - 1)
                .Where(r => all.Any(x => x.Round == r) && all.Any(x => x.Round == r - 1))
                .Select(r => all.Where(x => x.Round == r).Min(x => x.StartSeconds(submittedTicks)) - all.Where(x => x.Round == r - 1).Max(x => x.EndSeconds(submittedTicks)))
                .ToList();
            var firstStart = spans.Where(s => s.Count > 0).Min(s => s[0].StartSeconds(submittedTicks));
            var lastEnd = spans.Where(s => s.Count > 0).Max(s => s[^1].EndSeconds(submittedTicks));
            return new PoolRun(
                workers,
                slots,
                seconds,
                job.Progress.ShardsDone * samplesPerShard,
                job.Progress.ShardsDone,
                job.Progress.ShardsVerified,
                fromWorkers,
                fromAuditor,
                (fromWorkers + fromAuditor) * samplesPerShard,
                executed == 0 ? 0 : busy / executed,
                busy / (workers * seconds),
                inRoundGaps.Count == 0 ? 0 : inRoundGaps.Average(),
                turnarounds.Count == 0 ? 0 : turnarounds.Average(),
                firstStart,
                seconds - lastEnd,
                cpuSeconds,
                spans.Sum(s => s.Sum(x => x.CpuSeconds)),
                gcPause);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"row 4 pool run failed; last agent lines:\n{string.Join("\n", _log.TakeLast(30))}", e);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(running);
            foreach (var (who, _, _) in agents)
                await UntilAsync(() => who.Owner.DeviceAsync(who.DeviceId), d => d.Status != "online", $"{who.Name} offline", TimeSpan.FromSeconds(30));
        }
    }

    private void Log(string who, string line)
    {
        _log.Enqueue($"[{who}] {line}");
        while (_log.Count > 200) _log.TryDequeue(out _);
    }

    /// <summary>Polls until <paramref name="done"/> holds (row 4's harnesses wait on the Api this way).</summary>
    internal static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan timeout, int poll = 20)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var last = await probe();
            if (done(last)) return last;
            if (clock.Elapsed > timeout) throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds:F0} s; last seen: {last}");
            await Task.Delay(poll);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _pool.DisposeAsync();
    }

    /// <summary>When one shard's compute ran, in <see cref="Stopwatch"/> ticks.</summary>
    private readonly record struct ComputeSpan(int Round, long Start, long End, double CpuSeconds)
    {
        public double Seconds => (End - Start) / (double)Stopwatch.Frequency;
        public double StartSeconds(long origin) => (Start - origin) / (double)Stopwatch.Frequency;
        public double EndSeconds(long origin) => (End - origin) / (double)Stopwatch.Frequency;
    }

    /// <summary>The worker's own executor with a stopwatch around each shard (the executor call only, as the loop times it).</summary>
    private sealed class TimedExecutor(IShardExecutor inner) : IShardExecutor
    {
        private readonly ConcurrentQueue<ComputeSpan> _spans = new();

        public List<ComputeSpan> Spans => _spans.OrderBy(s => s.Start).ToList();

        public ShardOutput Execute(JobSpec spec, ShardPlan shard, ReadOnlySpan<float> weights, DataSlice data)
        {
            var start = Stopwatch.GetTimestamp();
            var cpu = Row4CpuClock.ThreadSeconds();
            try
            {
                return inner.Execute(spec, shard, weights, data);
            }
            finally
            {
                _spans.Enqueue(new ComputeSpan(shard.Round, start, Stopwatch.GetTimestamp(), Row4CpuClock.ThreadSeconds() - cpu));
            }
        }
    }

    /// <summary>
    /// The auditor's executor: the in-process loop's output for the same shard of the same job, without computing.
    /// The pool's round weights are the loop's up to the order of summation (last bits), far inside the tolerance.
    /// </summary>
    private sealed class OracleExecutor : IShardExecutor
    {
        private volatile Tuple<ulong, IReadOnlyDictionary<ShardKey, ShardOutput>>? _answers;

        public void Use(ulong seed, IReadOnlyDictionary<ShardKey, ShardOutput> outputs) => _answers = Tuple.Create(seed, outputs);

        public ShardOutput Execute(JobSpec spec, ShardPlan shard, ReadOnlySpan<float> weights, DataSlice data)
        {
            var answers = _answers;
            if (answers is null || answers.Item1 != spec.Seed || !answers.Item2.TryGetValue(new ShardKey(shard.Round, shard.Index), out var output))
                throw new InvalidOperationException($"the auditor has no answer for shard r{shard.Round}/s{shard.Index} of seed {spec.Seed}");
            return output;
        }
    }
}
