using System.Diagnostics;
using Huginn.Grains;
using Huginn.Grains.Interfaces.Routing;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Huginn.Benchmarks;

/// <summary>
/// Times routing from inside the silo, where the job grain calls it from: the router and the partitions it probes
/// are reached by local grain calls, without the client's gateway hop.
/// </summary>
[Alias("huginn.bench.IRow5RouteProbeGrain")]
public interface IRow5RouteProbeGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Routes each request in turn, timing only RouteAsync; releases every reservation untimed. Before each decision
    /// it times one relayed echo (same hops as a decision), the in-silo baseline taken at the same moments.
    /// </summary>
    [Alias("route-timed")]
    Task<Row5ProbeTimings> RouteTimedAsync(RouteRequest[] requests);
}

/// <summary>Per-call microseconds of routes and of the relayed echoes between them, and how many routes found no device.</summary>
[GenerateSerializer, Immutable, Alias("huginn.bench.row5-probe-timings")]
public sealed record Row5ProbeTimings([property: Id(0)] double[] Microseconds, [property: Id(1)] double[] Echo, [property: Id(2)] int Misses);

public sealed class Row5RouteProbeGrain(IOptions<PoolOptions> options) : Grain, IRow5RouteProbeGrain
{
    private readonly int _partitionsPerClass = options.Value.PartitionsPerClass;

    public async Task<Row5ProbeTimings> RouteTimedAsync(RouteRequest[] requests)
    {
        var router = GrainFactory.GetGrain<IShardRouterGrain>(0);
        var relay = GrainFactory.GetGrain<IRow5RelayGrain>(0);
        var timings = new double[requests.Length];
        var echoes = new double[requests.Length];
        var misses = 0;
        for (var i = 0; i < requests.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await relay.RelayAsync(i);
            echoes[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;

            started = Stopwatch.GetTimestamp();
            var decision = await router.RouteAsync(requests[i]);
            timings[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            if (decision is null)
            {
                misses++;
                continue;
            }
            await GrainFactory.GetGrain<IDevicePartitionGrain>(
                RoutingPartitions.KeyFor(decision.HardwareClass, decision.DeviceId, _partitionsPerClass)).ReleaseAsync(decision.DeviceId);
        }
        return new Row5ProbeTimings(timings, echoes, misses);
    }
}

/// <summary>
/// The baseline with a decision's hops: caller → a stateless worker (as the router is) → a grain (as a partition is)
/// → back, doing nothing at either end.
/// </summary>
[Alias("huginn.bench.IRow5RelayGrain")]
public interface IRow5RelayGrain : IGrainWithIntegerKey
{
    [Alias("relay")]
    Task<int> RelayAsync(int value);
}

[StatelessWorker]
public sealed class Row5RelayGrain : Grain, IRow5RelayGrain
{
    public Task<int> RelayAsync(int value) => GrainFactory.GetGrain<IEchoGrain>(value % 88).EchoAsync(value);
}
