using System.Diagnostics;
using System.Runtime;
using Huginn.Grains;
using Huginn.Grains.Devices;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Routing;
using Huginn.Grains.Routing;
using Huginn.Simulation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
// A partition's entries as DevicePartitionGrain holds them (by device id, ordinal).
using Partition = System.Collections.Generic.SortedList<string, (Huginn.Grains.Interfaces.Routing.DeviceSlotEntry Entry, System.DateTimeOffset SeenAt)>;

namespace Huginn.Benchmarks;

/// <summary>
/// Row 5: routing at scale. A fleet of registered devices (most offline), a tenth of them online, and the routing
/// decision timed from the client, from inside the silo and as pure CPU; memory per device measured as managed heap
/// growth in three states (registered and deactivated, registered with live activations, online and idle).
/// Baselines in the same run: a relayed echo (a decision's hops, doing nothing) timed in the same loop as each decision.
/// </summary>
public static class Row5Routing
{
    public sealed record Sizes(
        int Registered,
        int Online,
        int Decisions,
        int WarmUpDecisions,
        int ConcurrentCallers,
        int HistoryDevices,
        int HistoryVerdicts,
        int HistoryBlobs,
        int SetupConcurrency,
        int ColdScans,
        TimeSpan OnlineSpread,
        TimeSpan SetupLimit,
        TimeSpan MeasureLimit);

    public static Sizes Full { get; } = new(100_000, 10_000, 20_000, 2_000, 16, 1_000, 50, 16, 64, 400, TimeSpan.FromSeconds(5),
        TimeSpan.FromSeconds(150), TimeSpan.FromSeconds(30));

    public static Sizes Smoke { get; } = new(2_000, 200, 500, 100, 16, 40, 10, 16, 32, 40, TimeSpan.Zero,
        TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(5));

    /// <summary>The Api's heartbeat interval (ApiOptions.HeartbeatInterval): what keeps online devices online.</summary>
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);

    private const double TargetP99Microseconds = 1_000;
    private const double TargetBytesPerIdleDevice = 4_096;

    public static async Task<List<string[]>> RunAsync(Sizes sizes)
    {
        // Default pool rules; ROW5_PARTITIONS_PER_CLASS overrides the partition count (to see denser partitions).
        var options = new PoolOptions();
        if (int.TryParse(Environment.GetEnvironmentVariable("ROW5_PARTITIONS_PER_CLASS"), out var partitionsPerClass) && partitionsPerClass > 0)
            options.PartitionsPerClass = partitionsPerClass;
        // Every string and record of the fleet is made before the first heap reading, so it is in every baseline.
        var fleet = new Row5RoutingFleet(sizes.Registered, seed: 5);
        var warmUpFleet = new Row5RoutingFleet(Math.Max(100, sizes.Registered / 50), seed: 6);
        var online = fleet.Devices.Take(sizes.Online).ToList();
        var history = fleet.Devices.TakeLast(sizes.HistoryDevices).ToList();
        var historyRandom = new Random(7);
        var historyBlobs = history.Select(_ => Enumerable.Range(0, sizes.HistoryBlobs).Select(_ => Row5RoutingFleet.BlobId(historyRandom)).ToArray()).ToList();
        var historyLeases = history.Select(_ => Enumerable.Range(0, sizes.HistoryVerdicts).Select(_ => Row5RoutingFleet.Id(historyRandom)).ToArray()).ToList();
        var requests = fleet.Requests(4_096, online, seed: 8);

        // Information logs off: 10,000 devices coming online would log 10,000 lines, which is not what routing costs.
        await using var cluster = await BenchCluster.StartAsync(o => o.PartitionsPerClass = options.PartitionsPerClass, configureSilo: silo =>
        {
            silo.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
            silo.AddIncomingGrainCallFilter<Row5TurnTimer>();
        });
        var client = cluster.Client;
        var phases = Stopwatch.StartNew();

        // Warm-up: JIT, the storage grains, partitions, directory and routers; then everything idle is collected.
        var warmOnline = warmUpFleet.Devices.Take(warmUpFleet.Devices.Count / 10).ToList();
        await ForEachAsync(warmUpFleet.Devices, sizes.SetupConcurrency, sizes.SetupLimit, "warm-up registration", d => RegisterAsync(client, d));
        await ForEachAsync(warmOnline, sizes.SetupConcurrency, sizes.SetupLimit, "warm-up heartbeats", d => HeartbeatAsync(client, d, d.CachedBlobIds));
        await WaitForOnlineAsync(client, warmOnline.Count, sizes.SetupLimit);
        await RouteFromClientAsync(client, warmUpFleet.Requests(256, warmOnline, seed: 9), sizes.WarmUpDecisions, 1, sizes.MeasureLimit, options);
        await ForEachAsync(warmOnline, sizes.SetupConcurrency, sizes.SetupLimit, "warm-up disconnects", d => client.GetGrain<IDeviceGrain>(d.DeviceId).DisconnectAsync());
        await CollectIdleDevicesAsync(client, sizes.SetupLimit);
        var heapEmpty = SettledHeap();
        var workingSetEmpty = WorkingSetMb();

        // (2) Registered, activations still live.
        var register = await ForEachAsync(fleet.Devices, sizes.SetupConcurrency, sizes.SetupLimit, "registration", d => RegisterAsync(client, d));
        var heapRegisteredLive = SettledHeap();
        var workingSetRegisteredLive = WorkingSetMb();

        // (1) Registered and idle: activations collected, the in-memory storage holds the state alone.
        var collect = Stopwatch.StartNew();
        await CollectIdleDevicesAsync(client, sizes.SetupLimit);
        var collectSeconds = collect.Elapsed.TotalSeconds;
        var heapRegisteredIdle = SettledHeap();

        // History: devices that were online once with cached blobs, then did shards (one verdict each), then left.
        await ForEachAsync(Enumerable.Range(0, history.Count).ToList(), sizes.SetupConcurrency, sizes.SetupLimit, "history heartbeats",
            async i =>
            {
                await HeartbeatAsync(client, history[i], historyBlobs[i]);
                await client.GetGrain<IDeviceGrain>(history[i].DeviceId).DisconnectAsync();
            });
        await CollectIdleDevicesAsync(client, sizes.SetupLimit);
        var heapAfterBlobs = SettledHeap();
        await ForEachAsync(Enumerable.Range(0, history.Count).ToList(), sizes.SetupConcurrency, sizes.SetupLimit, "history verdicts",
            async i =>
            {
                var device = client.GetGrain<IDeviceGrain>(history[i].DeviceId);
                var leases = historyLeases[i];
                for (var v = 0; v < leases.Length; v++)
                {
                    // Trusted devices' work is 95 % unaudited, and every settled lease sends one notice.
                    var verdict = v % 20 == 0 ? Verdict.Verified : Verdict.Unaudited;
                    await device.RecordVerdictAsync(new VerdictNotice(new ShardRef($"job_{leases[0]}", 0, v, 0), leases[v], verdict));
                }
            });
        await CollectIdleDevicesAsync(client, sizes.SetupLimit);
        var heapAfterVerdicts = SettledHeap();

        // (3) Online and idle: activation, watchdog timer, partition entry, directory summary.
        // Spread over one watchdog period, so that the devices' refreshes are spread as in a pool that grew over time.
        var goOnline = await ForEachAsync(online, sizes.SetupConcurrency, sizes.SetupLimit, "heartbeats", d => HeartbeatAsync(client, d, d.CachedBlobIds),
            sizes.OnlineSpread);
        await WaitForOnlineAsync(client, online.Count, sizes.SetupLimit);
        using var stopHeartbeats = new CancellationTokenSource();
        var heartbeats = KeepHeartbeatingAsync(client, online, stopHeartbeats.Token);
        var heapOnline = SettledHeap();
        var workingSetOnline = WorkingSetMb();

        var snapshot = await client.GetGrain<IPoolDirectoryGrain>(IPoolDirectoryGrain.Key).GetSnapshotAsync();
        var partitionSizes = snapshot.Partitions.Select(p => p.DevicesOnline).ToList();
        var classes = snapshot.Partitions.Select(p => p.HardwareClass).Distinct().Count();

        // Background of an online fleet with no routing: watchdog refreshes, heartbeats, what they allocate.
        // One watchdog period (every online device refreshes once), bounded by the measurement limit.
        var background = await IdleLoadAsync(options.DeviceCheckInterval < sizes.MeasureLimit / 6 ? options.DeviceCheckInterval : sizes.MeasureLimit / 6);

        // Decisions, after a warm-up of each path.
        await RouteFromClientAsync(client, requests, sizes.WarmUpDecisions, 1, sizes.MeasureLimit, options);
        var probe = client.GetGrain<IRow5RouteProbeGrain>(0);
        await probe.RouteTimedAsync(requests.Take(sizes.WarmUpDecisions).ToArray());
        CallCounter.Start();
        Row5TurnTimer.Start();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var sequential = await RouteFromClientAsync(client, requests, sizes.Decisions, 1, sizes.MeasureLimit, options);
        var turns = Row5TurnTimer.Stop();
        var allocatedPerDecision = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore
            - background.BytesPerSecond * sequential.Elapsed.TotalSeconds) / sequential.Timings.Count;
        var calls = CallCounter.Stop();
        var probesPerDecision = Count(calls, "TryReserve") / (double)sequential.Timings.Count;
        var snapshotReads = Count(calls, "GetSnapshot");
        var concurrent = await RouteFromClientAsync(client, requests, sizes.Decisions, sizes.ConcurrentCallers, sizes.MeasureLimit, options);

        var inSilo = new List<double>();
        var echoInSilo = new List<double>();
        var inSiloMisses = 0;
        var inSiloGc = GcDuring.Start();
        var inSiloClock = Stopwatch.StartNew();
        for (var offset = 0; offset < sizes.Decisions && inSiloClock.Elapsed < sizes.MeasureLimit; offset += 1_000)
        {
            var batch = Enumerable.Range(offset, Math.Min(1_000, sizes.Decisions - offset)).Select(i => requests[i % requests.Length]).ToArray();
            var timings = await probe.RouteTimedAsync(batch);
            inSilo.AddRange(timings.Microseconds);
            echoInSilo.AddRange(timings.Echo);
            inSiloMisses += timings.Misses;
        }
        var inSiloGcs = inSiloGc();

        var partitions = Partitions(online, options);
        var cpu = DecisionCpu(partitions, snapshot, requests, sizes.Decisions, options);
        var cold = ScanCold(partitions, snapshot, requests, sizes.ColdScans, options);
        var onlineAfter = (await client.GetGrain<IPoolDirectoryGrain>(IPoolDirectoryGrain.Key).GetSnapshotAsync()).DevicesOnline;
        await stopHeartbeats.CancelAsync();
        await heartbeats;

        var fresh = StoredState(fleet.Devices[0], [], []);
        // What a device with history stores now (cached blob ids forgotten offline), and what it stored before row 5.
        var experienced = StoredState(history[0], [], historyLeases[0]);
        var experiencedBefore = StoredState(history[0], historyBlobs[0], historyLeases[0]);
        var (experiencedBeforeJson, experiencedBeforeBinary) = StateSizes(cluster.SiloServices, experiencedBefore);
        var (freshJson, freshBinary) = StateSizes(cluster.SiloServices, fresh);
        var (experiencedJson, experiencedBinary) = StateSizes(cluster.SiloServices, experienced);

        var perIdle = (heapRegisteredIdle - heapEmpty) / (double)sizes.Registered;
        var perLive = (heapRegisteredLive - heapEmpty) / (double)sizes.Registered;
        var perOnline = (heapOnline - heapAfterVerdicts) / (double)sizes.Online;
        var perBlob = (heapAfterBlobs - heapRegisteredIdle) / (double)(sizes.HistoryDevices * sizes.HistoryBlobs);
        var perVerdict = (heapAfterVerdicts - heapAfterBlobs) / (double)(sizes.HistoryDevices * sizes.HistoryVerdicts);
        var withHistory = perIdle + (heapAfterVerdicts - heapRegisteredIdle) / (double)sizes.HistoryDevices;
        var fleetWide = (heapOnline - heapEmpty) / (double)sizes.Registered;
        var partitionsLine = $"{onlineAfter:N0} online (of {online.Count:N0}) in {partitionSizes.Count} partitions of {classes} classes "
            + $"(mean {partitionSizes.Average():F0}, max {partitionSizes.Max()} devices)";

        return
        [
            [
                "5: decision time, client → router, one at a time",
                $"{Percentiles(sequential.Timings)} ({sequential.Timings.Count:N0} decisions, {sequential.Misses} misses; "
                    + $"{probesPerDecision:F2} partition probes and {snapshotReads} snapshot reads in all)",
                $"relayed echo (same hops), same loop: {Percentiles(sequential.Echo)}; {sequential.Gc}; {partitionsLine}; "
                    + $"background {background.RefreshesPerSecond:F0} partition refreshes/s",
                Target(sequential.Timings),
            ],
            [
                "5: where a decision's time goes (turns on the silo, same decisions as above)",
                $"router turn (RouteAsync, incl. its partition call) {TurnPercentiles(turns, "RouteAsync")}",
                $"partition turn (TryReserveAsync) {TurnPercentiles(turns, "TryReserveAsync")}; "
                    + $"partition refresh turn (UpsertAsync) {TurnPercentiles(turns, "UpsertAsync")}",
                $"process allocation per decision {allocatedPerDecision / 1024:N1} KB (incl. the relayed echo and the release, "
                    + $"minus the background of {background.BytesPerSecond / (1024 * 1024):N1} MB/s, {background.GcsPerSecond:F1} GCs/s with no routing)",
            ],
            [
                "5: decision time, inside the silo (grain → router)",
                $"{Percentiles(inSilo)} ({inSilo.Count:N0} decisions, {inSiloMisses} misses)",
                $"relayed echo from a grain, same loop: {Percentiles(echoInSilo)}; {inSiloGcs}",
                Target(inSilo),
            ],
            [
                $"5: decision time, {sizes.ConcurrentCallers} concurrent callers from the client",
                $"{Percentiles(concurrent.Timings)}; {concurrent.Timings.Count / concurrent.Elapsed.TotalSeconds:N0} decisions/s "
                    + $"({concurrent.Timings.Count:N0} decisions, {concurrent.Misses} misses)",
                $"relayed echo, same loop: {Percentiles(concurrent.Echo)}; {concurrent.Gc}",
                $"{Target(concurrent.Timings)} (under load; 2 shared cores)",
            ],
            [
                "5: decision CPU alone (the router's class ordering + the chooser over each probed partition, production code, no messaging)",
                $"{Percentiles(cpu.Timings)}; {cpu.BytesPerDecision:N0} B allocated/decision, of which class ordering {cpu.OrderingBytes:N0} B",
                $"the chooser over the largest partition ({cpu.LargestPartition} devices): {Percentiles(cpu.ChooseLargest)}, "
                    + $"{cpu.ChooseBytes:N0} B allocated",
                "part of the above",
            ],
            [
                "5: one partition scan with cold caches (as on the silo)",
                $"{Percentiles(cold.Cold)} ({cold.Cold.Count} scans)",
                $"the same scan again at once, hot: {Percentiles(cold.Hot)}",
                $"p50 cold / hot {Median(cold.Cold) / Median(cold.Hot):F1}×",
            ],
            [
                "5: memory per registered device, idle (offline, activation collected: the stored state only)",
                $"{perIdle:N0} B/device (heap +{Mb(heapRegisteredIdle - heapEmpty)} for {sizes.Registered:N0})",
                $"collected in {collectSeconds:F1} s; in production this state is a PostgreSQL row, not heap",
                $"target ≤ 4 KB: {(perIdle <= TargetBytesPerIdleDevice ? "met" : "missed")} (judged here, fresh devices)",
            ],
            [
                $"5: memory per idle device with history ({sizes.HistoryBlobs} cached blob ids at its last heartbeat, {sizes.HistoryVerdicts} verdicts)",
                $"{withHistory:N0} B/device: {perBlob:N0} B per cached blob id reported before going offline, +{perVerdict:N0} B per applied verdict",
                $"sample of {sizes.HistoryDevices:N0} devices; AppliedVerdicts grows by one lease id per settled shard, for ever",
                $"target ≤ 4 KB: {(withHistory <= TargetBytesPerIdleDevice ? "met" : "missed")} at {sizes.HistoryVerdicts} verdicts; "
                    + $"crossed after ≈ {Math.Max(0, (TargetBytesPerIdleDevice - perIdle) / Math.Max(perVerdict, 1)):N0} settled shards, "
                    + $"≈ {(perIdle + perVerdict * 1_000) / 1024:N0} KB at 1,000",
            ],
            [
                "5: stored state per device (serialized DeviceState)",
                $"fresh: {freshJson:N0} B JSON (memory mode), {freshBinary:N0} B binary (PostgreSQL mode)",
                $"after {sizes.HistoryVerdicts} verdicts: {experiencedJson:N0} B JSON, {experiencedBinary:N0} B binary; before row 5 it also kept the "
                    + $"{sizes.HistoryBlobs} blob ids last reported: {experiencedBeforeJson:N0} B JSON, {experiencedBeforeBinary:N0} B binary",
                "—",
            ],
            [
                "5: memory per registered device, activations live (just registered)",
                $"{perLive:N0} B/device (heap +{Mb(heapRegisteredLive - heapEmpty)})",
                $"working set {workingSetEmpty:N0} → {workingSetRegisteredLive:N0} MB; {sizes.Registered:N0} registrations in "
                    + $"{register.TotalSeconds:F1} s ({sizes.Registered / register.TotalSeconds:N0}/s, {sizes.SetupConcurrency} in flight)",
                "—",
            ],
            [
                "5: memory per online-idle device (activation + watchdog timer + partition entry)",
                $"{perOnline:N0} B/device (heap +{Mb(heapOnline - heapAfterVerdicts)} for {sizes.Online:N0})",
                $"whole fleet ({sizes.Registered:N0} registered, {sizes.Online:N0} online): {fleetWide:N0} B per registered device, "
                    + $"heap {Mb(heapOnline)}, working set {workingSetOnline:N0} MB; online in {goOnline.TotalSeconds:F1} s",
                $"≤ 4 KB: {(perOnline <= TargetBytesPerIdleDevice ? "yes" : "no")} (not the judged figure)",
            ],
        ];
    }

    /// <summary>The state DeviceGrain keeps for a registered, offline device (as RegisterAsync, HeartbeatAsync and RecordVerdictAsync leave it).</summary>
    private static DeviceState StoredState(Row5Device device, string[] cachedBlobIds, string[] appliedVerdicts) => new()
    {
        Registered = true,
        Name = device.Name,
        OwnerAccountId = device.OwnerId,
        Capabilities = device.Capabilities,
        HardwareClass = device.HardwareClass,
        Status = DeviceStatus.Offline,
        Record = new DeviceRecord { Unaudited = appliedVerdicts.Length },
        CachedBlobIds = cachedBlobIds,
        AppliedVerdicts = [.. appliedVerdicts],
    };

    /// <summary>Serialized sizes: the memory storage's serializer (this run) and the binary one the PostgreSQL mode configures.</summary>
    private static (int Json, int Binary) StateSizes(IServiceProvider silo, DeviceState state)
    {
        var memory = silo.GetRequiredService<IOptionsMonitor<MemoryGrainStorageOptions>>().Get(StorageNames.State).GrainStorageSerializer;
        var binary = new OrleansGrainStorageSerializer(silo.GetRequiredService<Serializer>());
        return (memory.Serialize(state).ToMemory().Length, binary.Serialize(state).ToMemory().Length);
    }

    private static Task RegisterAsync(IClusterClient client, Row5Device device) =>
        PoolSetup.RegisterAsync(client.GetGrain<IDeviceGrain>(device.DeviceId), new DeviceRegistration(device.OwnerId, device.Name, device.Capabilities));

    private static async Task HeartbeatAsync(IClusterClient client, Row5Device device, string[] cachedBlobIds)
    {
        var status = await client.GetGrain<IDeviceGrain>(device.DeviceId).HeartbeatAsync(new DeviceHeartbeat(cachedBlobIds));
        if (status != DeviceStatus.Online) throw new InvalidOperationException($"{device.DeviceId} is {status} after a heartbeat");
    }

    /// <summary>Heartbeats every online device once per interval, spread evenly (as workers connected at random times do).</summary>
    private static async Task KeepHeartbeatingAsync(IClusterClient client, IReadOnlyList<Row5Device> devices, CancellationToken stop)
    {
        const int ticksPerInterval = 100;
        var perTick = (devices.Count + ticksPerInterval - 1) / ticksPerInterval;
        var next = 0;
        using var timer = new PeriodicTimer(HeartbeatInterval / ticksPerInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var batch = Enumerable.Range(0, perTick).Select(_ => devices[next++ % devices.Count]);
                await Task.WhenAll(batch.Select(d => client.GetGrain<IDeviceGrain>(d.DeviceId).HeartbeatAsync(new DeviceHeartbeat(d.CachedBlobIds))));
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>What the process allocates per second, and how often it collects, while nothing is routed.</summary>
    private static async Task<(double BytesPerSecond, double GcsPerSecond, double RefreshesPerSecond)> IdleLoadAsync(TimeSpan duration)
    {
        CallCounter.Start();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var gcs = GC.CollectionCount(0);
        var clock = Stopwatch.StartNew();
        await Task.Delay(duration);
        var seconds = clock.Elapsed.TotalSeconds;
        var calls = CallCounter.Stop();
        return ((GC.GetTotalAllocatedBytes(precise: true) - allocated) / seconds, (GC.CollectionCount(0) - gcs) / seconds, Count(calls, "Upsert") / seconds);
    }

    /// <summary>Partitions report to the directory as devices join; waits until it counts them all.</summary>
    private static async Task WaitForOnlineAsync(IClusterClient client, int expected, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        var directory = client.GetGrain<IPoolDirectoryGrain>(IPoolDirectoryGrain.Key);
        while ((await directory.GetSnapshotAsync()).DevicesOnline < expected)
        {
            if (clock.Elapsed > limit) throw new TimeoutException($"the directory did not count {expected} online devices within {limit}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Deactivates every idle activation (the management grain's forced collection, as the activation collector does
    /// after CollectionAge) and waits until no device grain is active. Online devices keep theirs: none is online here.
    /// </summary>
    private static async Task CollectIdleDevicesAsync(IClusterClient client, TimeSpan limit)
    {
        var management = client.GetGrain<IManagementGrain>(0);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await management.ForceActivationCollection(TimeSpan.Zero);
            var stats = await management.GetSimpleGrainStatistics();
            var devices = stats.Where(s => s.GrainType.EndsWith("DeviceGrain", StringComparison.Ordinal)).Sum(s => s.ActivationCount);
            if (devices == 0) return;
            if (clock.Elapsed > limit) throw new TimeoutException($"{devices} device activations still live after {limit}");
            await Task.Delay(200);
        }
    }

    /// <summary>Route timings, and relayed echo timings taken in the same loop (same moments, same GC and noise).</summary>
    private sealed record Timed(List<double> Timings, List<double> Echo, int Misses, TimeSpan Elapsed, GcDuring Gc);

    /// <summary>Collections and pause time while a measurement ran (server GC: pauses stop every caller).</summary>
    private sealed record GcDuring(int Gen0, int Gen1, int Gen2, TimeSpan Paused)
    {
        public static Func<GcDuring> Start()
        {
            var (g0, g1, g2, paused) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
            return () => new GcDuring(GC.CollectionCount(0) - g0, GC.CollectionCount(1) - g1, GC.CollectionCount(2) - g2, GC.GetTotalPauseDuration() - paused);
        }

        public override string ToString() => $"{Gen0 + Gen1 + Gen2} GCs (gen2 {Gen2}), {Paused.TotalMilliseconds:F0} ms paused";
    }

    /// <summary>
    /// Callers routing one request at a time each; only RouteAsync is timed, the release after it is not. Before each
    /// decision every caller also times one relayed echo (client → stateless worker → grain, a decision's hops), so
    /// that the baseline sees the same GCs and the same neighbours.
    /// </summary>
    private static async Task<Timed> RouteFromClientAsync(
        IClusterClient client, RouteRequest[] requests, int decisions, int callers, TimeSpan limit, PoolOptions options)
    {
        var router = client.GetGrain<IShardRouterGrain>(0);
        var timings = new double[decisions];
        var echoes = new double[decisions];
        var next = -1;
        var misses = 0;
        var gc = GcDuring.Start();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async caller =>
        {
            var relay = client.GetGrain<IRow5RelayGrain>(0);
            int i;
            while ((i = Interlocked.Increment(ref next)) < decisions && clock.Elapsed < limit)
            {
                var started = Stopwatch.GetTimestamp();
                await relay.RelayAsync(i);
                echoes[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;

                started = Stopwatch.GetTimestamp();
                var decision = await router.RouteAsync(requests[i % requests.Length]);
                timings[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                if (decision is null)
                {
                    Interlocked.Increment(ref misses);
                    continue;
                }
                await client.GetGrain<IDevicePartitionGrain>(RoutingPartitions.KeyFor(decision.HardwareClass, decision.DeviceId, options.PartitionsPerClass))
                    .ReleaseAsync(decision.DeviceId);
            }
        }));
        var elapsed = clock.Elapsed;
        // Slots past the time limit were never filled.
        return new Timed(timings.Where(t => t > 0).ToList(), echoes.Where(t => t > 0).ToList(), misses, elapsed, gc());
    }

    private sealed record Cpu(List<double> Timings, double BytesPerDecision, double OrderingBytes, int LargestPartition, List<double> ChooseLargest, double ChooseBytes);

    /// <summary>
    /// The CPU part of a decision without messaging: the router's class ordering over the directory snapshot, then the
    /// chooser over each probed partition's entries (the same online devices, hashed into the same partitions, held in
    /// id order as the partition grain holds them), probing as ShardRouterGrain.TryRouteAsync does. The partition's
    /// stale-entry scan before each choice is not in it: it is timed with the partition's turn on the silo.
    /// </summary>
    private static Cpu DecisionCpu(Dictionary<string, Partition> partitions, PoolSnapshot snapshot, RouteRequest[] requests, int decisions, PoolOptions options)
    {
        var random = new Random(10);
        var timings = new List<double>(decisions);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < decisions; i++)
        {
            var request = requests[i % requests.Length];
            var started = Stopwatch.GetTimestamp();
            var found = false;
            foreach (var candidates in OrderedClasses(snapshot, request, options))
            {
                var start = random.Next(candidates.Count);
                var probes = Math.Min(candidates.Count, options.PartitionProbesPerClass);
                for (var p = 0; p < probes && !found; p++)
                    found = Choose(partitions[candidates[(start + p) % candidates.Count].PartitionKey], request, options) is not null;
                if (found) break;
            }
            timings.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }
        var bytesPerDecision = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / (double)decisions;

        // Where the allocations are: the class ordering alone, and one scan of the largest partition alone.
        allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < decisions; i++)
        {
            foreach (var _ in OrderedClasses(snapshot, requests[i % requests.Length], options)) { }
        }
        var orderingBytes = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / (double)decisions;

        var largest = partitions.Values.MaxBy(p => p.Count)!;
        var chooseLargest = new List<double>(decisions);
        allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < decisions; i++)
        {
            var started = Stopwatch.GetTimestamp();
            Choose(largest, requests[i % requests.Length], options);
            chooseLargest.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }
        var chooseBytes = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / (double)decisions;
        return new Cpu(timings, bytesPerDecision, orderingBytes, largest.Count, chooseLargest, chooseBytes);
    }

    /// <summary>The online devices' entries, hashed into partitions as the device grains do it, each held in id order.</summary>
    private static Dictionary<string, Partition> Partitions(IReadOnlyList<Row5Device> online, PoolOptions options)
    {
        var seenAt = DateTimeOffset.UtcNow;
        return online
            .GroupBy(d => RoutingPartitions.KeyFor(d.HardwareClass, d.DeviceId, options.PartitionsPerClass))
            .ToDictionary(g => g.Key, g => new Partition(g.ToDictionary(d => d.DeviceId, d => (Entry: Entry(d), SeenAt: seenAt)), StringComparer.Ordinal));
    }

    private sealed record ColdScans(List<double> Cold, List<double> Hot);

    /// <summary>
    /// One scan per request of a partition the router would probe first, with the CPU caches flushed first: on the silo
    /// a partition is scanned cold (its entries and their strings lie all over the heap, and thousands of other turns
    /// ran since its last scan). The same scan again at once, hot, is the baseline.
    /// </summary>
    private static ColdScans ScanCold(Dictionary<string, Partition> partitions, PoolSnapshot snapshot, RouteRequest[] requests, int scans, PoolOptions options)
    {
        var flush = new byte[64 << 20];
        var random = new Random(11);
        var cold = new List<double>(scans);
        var hot = new List<double>(scans);
        for (var i = 0; i < scans; i++)
        {
            var request = requests[i % requests.Length];
            var classes = OrderedClasses(snapshot, request, options);
            if (classes.Count == 0) continue;
            var partition = partitions[classes[0][random.Next(classes[0].Count)].PartitionKey];
            // Writing one byte per cache line through 64 MB pushes the partition out of every cache level.
            for (var b = 0; b < flush.Length; b += 64) flush[b]++;
            var started = Stopwatch.GetTimestamp();
            Choose(partition, request, options);
            cold.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            started = Stopwatch.GetTimestamp();
            Choose(partition, request, options);
            hot.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
        }
        return new ColdScans(cold, hot);
    }

    // The routing rule under measurement, production code called from these two lines only.
    private static IReadOnlyList<List<PartitionSummary>> OrderedClasses(PoolSnapshot snapshot, RouteRequest request, PoolOptions options) =>
        Huginn.Grains.Rules.Routing.OrderClasses(snapshot, request, options);

    /// <summary>The choice DevicePartitionGrain.TryReserveAsync makes over its entries.</summary>
    private static (DeviceSlotEntry Device, double ExpectedSeconds)? Choose(Partition partition, RouteRequest request, PoolOptions options) =>
        Huginn.Grains.Rules.Routing.Choose(partition.Values.Select(d => d.Entry), request, options);

    /// <summary>The entry DeviceGrain.RefreshPartitionAsync sends for a device with a fresh record.</summary>
    private static DeviceSlotEntry Entry(Row5Device device) => new()
    {
        DeviceId = device.DeviceId,
        OwnerAccountId = device.OwnerId,
        Kind = device.Capabilities.Kind,
        WorkingMemoryMb = device.Capabilities.WorkingMemoryMb,
        Gflops = device.Capabilities.Gflops,
        Runtimes = device.Capabilities.Runtimes,
        Slots = device.Capabilities.Slots,
        BusySlots = 0,
        Reliability = new DeviceRecord().Reliability,
        CachedBlobIds = device.CachedBlobIds,
    };

    /// <summary>
    /// Runs <paramref name="action"/> over the items with a fixed number in flight, item i not before i/n of
    /// <paramref name="spread"/>; fails past the time limit.
    /// </summary>
    private static async Task<TimeSpan> ForEachAsync<T>(
        IReadOnlyList<T> items, int concurrency, TimeSpan limit, string what, Func<T, Task> action, TimeSpan spread = default)
    {
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < items.Count)
            {
                if (clock.Elapsed > limit) throw new TimeoutException($"{what}: not done within {limit} ({i:N0} of {items.Count:N0} started)");
                var due = spread * i / items.Count;
                if (clock.Elapsed < due) await Task.Delay(due - clock.Elapsed);
                await action(items[i]);
            }
        }));
        return clock.Elapsed;
    }

    /// <summary>Live managed bytes after full, compacting, blocking collections (what the heap holds, not what it reserved).</summary>
    private static long SettledHeap()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        Thread.Sleep(200);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static double WorkingSetMb()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64 / (1024.0 * 1024);
    }

    private static long Count(IReadOnlyDictionary<string, long> calls, string method) =>
        calls.Where(c => c.Key.Contains(method, StringComparison.Ordinal)).Sum(c => c.Value);

    private static string Mb(long bytes) => $"{bytes / (1024.0 * 1024):N1} MB";

    private static string Percentiles(IReadOnlyCollection<double> microseconds)
    {
        var sorted = microseconds.Order().ToArray();
        double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return $"p50 {Us(At(0.50))}, p99 {Us(At(0.99))}, max {Us(sorted[^1])}";
    }

    private static string TurnPercentiles(IReadOnlyDictionary<string, List<double>> turns, string method) =>
        turns.TryGetValue(method, out var timings) && timings.Count > 0 ? Percentiles(timings) : "none in the window";

    private static double Median(IReadOnlyCollection<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Us(double microseconds) => microseconds switch
    {
        >= 1_000 => $"{microseconds / 1_000:F2} ms",
        >= 10 => $"{microseconds:F0} µs",
        _ => $"{microseconds:F1} µs",
    };

    private static string Target(IReadOnlyCollection<double> microseconds)
    {
        var sorted = microseconds.Order().ToArray();
        var p99 = sorted[Math.Clamp((int)Math.Ceiling(0.99 * sorted.Length) - 1, 0, sorted.Length - 1)];
        return $"target p99 ≤ 1 ms: {(p99 <= TargetP99Microseconds ? "met" : "missed")}";
    }
}
