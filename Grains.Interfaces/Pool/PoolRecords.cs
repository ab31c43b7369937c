using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Pool;

/// <summary>What a job still has to do, as it tells the pool at submission, each round, and at its end.</summary>
[GenerateSerializer, Immutable, Alias("huginn.job-load")]
public sealed record JobLoad(
    [property: Id(0)] string JobId,
    [property: Id(1)] int RemainingShards,
    [property: Id(2)] double RemainingFlops,
    [property: Id(3)] bool Active);

/// <summary>The pool's queue: work accepted and not yet done.</summary>
[GenerateSerializer, Immutable, Alias("huginn.pool-load")]
public sealed record PoolLoad(
    [property: Id(0)] int JobsRunning,
    [property: Id(1)] long ShardsQueued,
    [property: Id(2)] double QueuedFlops);

/// <summary>A priced job: the cost, how long it should take now, or why it cannot run.</summary>
[GenerateSerializer, Immutable, Alias("huginn.job-estimate")]
public sealed record JobEstimate(
    [property: Id(0)] CostEstimate? Cost,
    [property: Id(1)] double EtaSeconds,
    [property: Id(2)] IReadOnlyList<SpecError> Errors,
    [property: Id(3)] decimal EurPerHu)
{
    public bool CanRun => Cost is not null && Errors.Count == 0;
}

/// <summary>GET /v1/pool: capacity online and the queue.</summary>
[GenerateSerializer, Immutable, Alias("huginn.pool-overview")]
public sealed record PoolOverview(
    [property: Id(0)] int DevicesOnline,
    [property: Id(1)] IReadOnlyDictionary<string, int> DevicesByKind,
    [property: Id(2)] double GflopsOnline,
    [property: Id(3)] PoolLoad Load,
    [property: Id(4)] decimal HuPriceEur,
    [property: Id(5)] double MeanAuditRate);
