using Huginn.Grains.Interfaces.Routing;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Huginn.Grains.Routing;

/// <summary>
/// Routes one shard: orders the cached directory snapshot's capable hardware classes by the routing rule
/// (<see cref="Rules.Routing.OrderClasses"/>), and asks
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

    public async Task<bool> AnyEligibleAsync(RouteRequest request)
    {
        // The failure path only: a fresh snapshot and every partition of every capable class.
        _snapshot = await Directory().GetSnapshotAsync();
        foreach (var partitions in OrderedClasses(_snapshot, request))
        {
            foreach (var partition in partitions)
            {
                if (await GrainFactory.GetGrain<IDevicePartitionGrain>(partition.PartitionKey).AnyEligibleAsync(request)) return true;
            }
        }
        return false;
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

    private IReadOnlyList<List<PartitionSummary>> OrderedClasses(PoolSnapshot snapshot, RouteRequest request) =>
        Rules.Routing.OrderClasses(snapshot, request, _options);

    private IPoolDirectoryGrain Directory() => GrainFactory.GetGrain<IPoolDirectoryGrain>(IPoolDirectoryGrain.Key);
}
