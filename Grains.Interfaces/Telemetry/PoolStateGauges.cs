using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Pool;
using Huginn.Grains.Interfaces.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Huginn.Grains.Interfaces.Telemetry;

/// <summary>
/// Gauges of the pool's state (meter <c>Huginn.Pool</c>, beside the counters of PoolMeters): devices online by hardware
/// class and kind, and the queue (jobs running, shards and FLOPs still to do). A background service polls the pool's
/// directory and load grains every <see cref="DefaultInterval"/> and keeps the answer; the gauges' callbacks only read it.
/// </summary>
/// <remarks>
/// The callbacks run on the exporter's scrape thread and must not block on a grain call (a slow or absent cluster would
/// stall every scrape), hence the cache. Every process that runs this reports the same pool-wide numbers: aggregate them
/// with <c>max</c> over processes, never <c>sum</c>. Lives here, not in Grains, because the Api references only the
/// interfaces and runs it too. Until a poll succeeds, and once the last success is older than
/// <see cref="StaleAfterIntervals"/> intervals, the gauges report nothing: a gap on a graph rather than a stale number.
/// </remarks>
public sealed class PoolStateGauges(IClusterClient cluster, TimeSpan interval, ILogger<PoolStateGauges> logger, TimeProvider? time = null)
    : BackgroundService
{
    public const string MeterName = "Huginn.Pool";

    /// <summary>Configuration key of the polling interval (a TimeSpan, e.g. <c>00:00:10</c>) in the silo and the Api.</summary>
    public const string IntervalKey = "Huginn:Metrics:PoolStateInterval";

    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    public const int StaleAfterIntervals = 3;

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private static readonly Meter Meter = new(MeterName);

    // The samplers of this process that are running. One per host in production; a test process holds several pools.
    private static readonly ConcurrentDictionary<PoolStateGauges, byte> Running = new();

    private static readonly ObservableGauge<int> DevicesOnlineGauge = Meter.CreateObservableGauge(
        "huginn.pool.devices.online", () => Observe(s => s.DevicesOnline()), "{device}",
        "Devices online, by hardware class (class) and kind (kind), as the pool's directory lists them.");

    private static readonly ObservableGauge<int> JobsRunningGauge = Meter.CreateObservableGauge(
        "huginn.pool.jobs.running", () => Observe(s => s.Queue(l => l.JobsRunning)), "{job}",
        "Jobs accepted and not finished.");

    private static readonly ObservableGauge<long> QueuedShardsGauge = Meter.CreateObservableGauge(
        "huginn.pool.queue.shards", () => Observe(s => s.Queue(l => l.ShardsQueued)), "{shard}",
        "Shards the running jobs still have to do (queue depth).");

    private static readonly ObservableGauge<double> QueuedFlopsGauge = Meter.CreateObservableGauge(
        "huginn.pool.queue.flops", () => Observe(s => s.Queue(l => l.QueuedFlops)), "{flop}",
        "Floating-point operations the running jobs still have to do.");

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    // Hardware classes seen since start: one that empties keeps reporting 0 instead of vanishing (the directory drops
    // empty partitions), so that "devices online" falls to zero on a graph and in alerts. Touched by the poll loop only.
    private readonly HashSet<(string Class, string Kind)> _classesSeen = [];

    private volatile Sample? _last;

    private sealed record Sample(DateTimeOffset TakenAt, IReadOnlyList<(string Class, string Kind, int Devices)> Devices, PoolLoad Load);

    /// <summary>The last poll's answer while it is fresh, else null.</summary>
    private Sample? Fresh => _last is { } last && _time.GetUtcNow() - last.TakenAt <= interval * StaleAfterIntervals ? last : null;

    private IEnumerable<Measurement<T>> Queue<T>(Func<PoolLoad, T> read) where T : struct =>
        Fresh is { } fresh ? [new Measurement<T>(read(fresh.Load))] : [];

    private IEnumerable<Measurement<int>> DevicesOnline() =>
        Fresh is { } fresh
            ? fresh.Devices.Select(d => new Measurement<int>(d.Devices,
                new KeyValuePair<string, object?>("class", d.Class), new KeyValuePair<string, object?>("kind", d.Kind)))
            : [];

    private static IEnumerable<Measurement<T>> Observe<T>(Func<PoolStateGauges, IEnumerable<Measurement<T>>> read) where T : struct =>
        Running.Keys.SelectMany(read).ToList();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Running.TryAdd(this, 0);
        try
        {
            using var timer = new PeriodicTimer(interval, _time);
            do
            {
                await PollAsync(stoppingToken);
            } while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            Running.TryRemove(this, out _);
        }
    }

    /// <summary>One poll of the directory and the queue; a failure keeps the previous answer until it goes stale.</summary>
    public async Task PollAsync(CancellationToken cancellationToken)
    {
        try
        {
            var snapshot = await cluster.GetGrain<IPoolDirectoryGrain>(IPoolDirectoryGrain.Key).GetSnapshotAsync()
                .WaitAsync(CallTimeout, cancellationToken);
            var load = await cluster.GetGrain<IPoolLoadGrain>(IPoolLoadGrain.Key).GetAsync().WaitAsync(CallTimeout, cancellationToken);
            // A class is spread over several partitions: add them up.
            var online = snapshot.Partitions
                .GroupBy(p => (Class: p.HardwareClass, Kind: HardwareClass.Kind(p.Kind)))
                .ToDictionary(g => g.Key, g => g.Sum(p => p.DevicesOnline));
            _classesSeen.UnionWith(online.Keys);
            var devices = _classesSeen.Select(c => (c.Class, c.Kind, online.GetValueOrDefault(c))).ToList();
            var wasFresh = Fresh is not null;
            _last = new Sample(_time.GetUtcNow(), devices, load);
            if (!wasFresh) logger.LogInformation("Pool state gauges: the cluster answers ({Devices} device(s) online, {Shards} shard(s) queued)",
                snapshot.DevicesOnline, load.ShardsQueued);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Expected while a silo starts (this runs before it joins) or while the cluster is away.
            logger.LogDebug(ex, "Pool state gauges: the cluster did not answer; keeping the previous values until they go stale");
        }
    }

    /// <summary>Registers the poller (one per host). The gauges exist as soon as this type is loaded.</summary>
    public static IServiceCollection AddPoolStateGauges(IServiceCollection services, TimeSpan? interval)
    {
        var every = interval is { } i && i > TimeSpan.Zero ? i : DefaultInterval;
        return services.AddHostedService(provider => new PoolStateGauges(provider.GetRequiredService<IClusterClient>(), every,
            provider.GetRequiredService<ILogger<PoolStateGauges>>(), provider.GetService<TimeProvider>()));
    }

    /// <summary>Forces the static gauges into existence (a MeterListener sees only instruments already created).</summary>
    public static IReadOnlyList<Instrument> Instruments => [DevicesOnlineGauge, JobsRunningGauge, QueuedShardsGauge, QueuedFlopsGauge];
}
