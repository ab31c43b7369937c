using Huginn.Grains.Interfaces.Routing;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Huginn.Grains.Routing;

/// <summary>
/// Routes one shard: filters the cached directory snapshot down to partitions that could run it, orders
/// hardware classes (audit's class first; heavy shards fastest first, light ones smallest first), and asks
/// a few partitions of each class, starting at a random one so that load spreads. A miss refreshes the
/// snapshot once, so new devices are found without polling the directory on every shard.
/// </summary>
[StatelessWorker]
public sealed class ShardRouterGrain(IOptions<PoolOptions> options) : Grain, IShardRouterGrain
{
    private readonly PoolOptions _options = options.Value;
    private PoolSnapshot? _snapshot;

    public async Task<RouteDecision?> RouteAsync(RouteRequest request)
    {
        var fresh = _snapshot is null;
        _snapshot ??= await Directory().GetSnapshotAsync();
        var decision = await TryRouteAsync(_snapshot, request);
        if (decision is null && !fresh)
        {
            var latest = await Directory().GetSnapshotAsync();
            if (latest.Version != _snapshot.Version)
            {
                _snapshot = latest;
                decision = await TryRouteAsync(latest, request);
            }
        }
        return decision;
    }

    private async Task<RouteDecision?> TryRouteAsync(PoolSnapshot snapshot, RouteRequest request)
    {
        foreach (var partitions in OrderedClasses(snapshot, request))
        {
            var start = Random.Shared.Next(partitions.Count);
            var probes = Math.Min(partitions.Count, _options.PartitionProbesPerClass);
            for (var i = 0; i < probes; i++)
            {
                var partition = partitions[(start + i) % partitions.Count];
                var decision = await GrainFactory.GetGrain<IDevicePartitionGrain>(partition.PartitionKey).TryReserveAsync(request);
                if (decision is not null) return decision;
            }
        }
        return null;
    }

    /// <summary>Capable classes in the order they should be tried, each with its partitions.</summary>
    public static IEnumerable<List<PartitionSummary>> OrderedClasses(PoolSnapshot snapshot, RouteRequest request, PoolOptions options)
    {
        var requirement = request.Requirement;
        var classes = snapshot.Partitions
            .Where(p => requirement.Allows(p.Kind, p.MaxMemoryMb, p.Runtimes))
            .Where(p => ShardTiming.LeaseDuration(ShardTiming.ExpectedSeconds(requirement.Flops, p.MaxGflops, 1, options), options) <= request.MaxDuration)
            .GroupBy(p => p.HardwareClass)
            .Select(g => (Class: g.Key, Speed: g.Max(p => p.MaxGflops), Partitions: g.ToList()))
            .ToList();
        var heavy = ShardTiming.IsHeavy(requirement.Flops, options);
        return classes
            .OrderBy(c => c.Class == request.PreferredClass ? 0 : 1)
            .ThenBy(c => heavy ? -c.Speed : c.Speed)
            .ThenBy(c => c.Class, StringComparer.Ordinal)
            .Select(c => c.Partitions);
    }

    private IEnumerable<List<PartitionSummary>> OrderedClasses(PoolSnapshot snapshot, RouteRequest request) =>
        OrderedClasses(snapshot, request, _options);

    private IPoolDirectoryGrain Directory() => GrainFactory.GetGrain<IPoolDirectoryGrain>(IPoolDirectoryGrain.Key);
}
