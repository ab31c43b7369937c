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
    /// <remarks>
    /// Runs on every decision over every partition of the snapshot (~240 at 30 classes), so it is a loop, not a LINQ
    /// group-and-sort: the LINQ version allocated ~10 KB per decision at 88 partitions.
    /// </remarks>
    public static IReadOnlyList<List<PartitionSummary>> OrderedClasses(PoolSnapshot snapshot, RouteRequest request, PoolOptions options)
    {
        var requirement = request.Requirement;
        // A few dozen classes at most (kind × memory tier): a list searched in order is cheaper than a dictionary.
        var classes = new List<(string Class, double Speed, List<PartitionSummary> Partitions)>();
        foreach (var p in snapshot.Partitions)
        {
            if (!requirement.Allows(p.Kind, p.MaxMemoryMb, p.Runtimes)) continue;
            var fastest = ShardTiming.ExpectedSeconds(requirement.Flops, p.MaxGflops, 1, options);
            if (ShardTiming.LeaseDuration(fastest, options) > request.MaxDuration) continue;
            var i = 0;
            while (i < classes.Count && classes[i].Class != p.HardwareClass) i++;
            if (i == classes.Count)
            {
                classes.Add((p.HardwareClass, p.MaxGflops, [p]));
            }
            else
            {
                classes[i].Partitions.Add(p);
                if (p.MaxGflops > classes[i].Speed) classes[i] = classes[i] with { Speed = p.MaxGflops };
            }
        }
        var heavy = ShardTiming.IsHeavy(requirement.Flops, options);
        classes.Sort((a, b) =>
        {
            var byPreference = (a.Class == request.PreferredClass ? 0 : 1).CompareTo(b.Class == request.PreferredClass ? 0 : 1);
            if (byPreference != 0) return byPreference;
            var bySpeed = heavy ? b.Speed.CompareTo(a.Speed) : a.Speed.CompareTo(b.Speed);
            return bySpeed != 0 ? bySpeed : string.CompareOrdinal(a.Class, b.Class);
        });
        return classes.ConvertAll(c => c.Partitions);
    }

    private IReadOnlyList<List<PartitionSummary>> OrderedClasses(PoolSnapshot snapshot, RouteRequest request) =>
        OrderedClasses(snapshot, request, _options);

    private IPoolDirectoryGrain Directory() => GrainFactory.GetGrain<IPoolDirectoryGrain>(IPoolDirectoryGrain.Key);
}
