using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Routing;

/// <summary>What a routing partition keeps about one online device: enough to choose without calling it.</summary>
[GenerateSerializer, Immutable, Alias("huginn.device-slot-entry")]
public sealed record DeviceSlotEntry
{
    [Id(0)] public required string DeviceId { get; init; }
    [Id(1)] public required string OwnerAccountId { get; init; }
    [Id(2)] public required DeviceKind Kind { get; init; }
    [Id(3)] public required long WorkingMemoryMb { get; init; }
    [Id(4)] public required double Gflops { get; init; }
    [Id(5)] public required string[] Runtimes { get; init; }
    [Id(6)] public required int Slots { get; init; }
    /// <summary>Leases the device holds open right now, as the device grain last reported it.</summary>
    [Id(7)] public required int BusySlots { get; init; }
    [Id(8)] public required double Reliability { get; init; }
    [Id(9)] public required string[] CachedBlobIds { get; init; }
    /// <summary>The device's current audit rate, so estimates can price the expected audit overhead.</summary>
    [Id(10)] public double AuditRate { get; init; } = 1.0;
}

/// <summary>A request for one device to run one shard.</summary>
[GenerateSerializer, Immutable, Alias("huginn.route-request")]
public sealed record RouteRequest
{
    [Id(0)] public required ShardRequirement Requirement { get; init; }
    /// <summary>Longest lease the job accepts: a device that cannot finish within it is never chosen.</summary>
    [Id(1)] public required TimeSpan MaxDuration { get; init; }
    [Id(2)] public string[] ExcludedDevices { get; init; } = [];
    /// <summary>Owners already involved in this shard: an audit must run on someone else's device.</summary>
    [Id(3)] public string[] ExcludedOwners { get; init; } = [];
    /// <summary>For audits: the primary's hardware class, tried first so that tolerances can stay tight.</summary>
    [Id(4)] public string? PreferredClass { get; init; }
    [Id(5)] public string[] InputBlobIds { get; init; } = [];
    /// <summary>
    /// For audits of bf16 shards: the only hardware class that may run it (homogeneous redundancy), because bf16
    /// results are close only to results of the same hardware (docs/VERIFICATION.md, "bf16").
    /// </summary>
    [Id(6)] public string? RequiredClass { get; init; }
    /// <summary>
    /// For first leases of bf16 shards: only classes with devices of at least two owners, so that the audit, which
    /// must run on the same class, can be placed at all.
    /// </summary>
    [Id(7)] public bool AuditableClassOnly { get; init; }
    /// <summary>Owners at the job's device cap: only their devices in <see cref="CappedOwnersDevices"/> may take more of it.</summary>
    [Id(8)] public string[] CappedOwners { get; init; } = [];
    [Id(9)] public string[] CappedOwnersDevices { get; init; } = [];
}

/// <summary>The device chosen for a shard, with a slot reserved on it in its partition.</summary>
[GenerateSerializer, Immutable, Alias("huginn.route-decision")]
public sealed record RouteDecision(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] string OwnerAccountId,
    [property: Id(2)] string HardwareClass,
    [property: Id(3)] double ExpectedSeconds);

/// <summary>A partition's summary for the directory: enough to decide whether to ask it at all.</summary>
[GenerateSerializer, Immutable, Alias("huginn.partition-summary")]
public sealed record PartitionSummary
{
    [Id(0)] public required string PartitionKey { get; init; }
    [Id(1)] public required string HardwareClass { get; init; }
    [Id(2)] public required DeviceKind Kind { get; init; }
    [Id(3)] public required int DevicesOnline { get; init; }
    [Id(4)] public required long MaxMemoryMb { get; init; }
    [Id(5)] public required double MaxGflops { get; init; }
    [Id(6)] public required double TotalGflops { get; init; }
    [Id(7)] public required string[] Runtimes { get; init; }
    [Id(8)] public required int TotalSlots { get; init; }
    /// <summary>Σ audit rate over the partition's devices (mean = this ÷ <see cref="DevicesOnline"/>).</summary>
    [Id(9)] public double AuditRateSum { get; init; }
    /// <summary>Up to <see cref="OwnerSampleSize"/> distinct owners of the partition's devices: enough to tell one owner from several.</summary>
    [Id(10)] public string[] OwnerSample { get; init; } = [];

    public const int OwnerSampleSize = 2;
}

/// <summary>The pool as the directory sees it: every non-empty partition.</summary>
[GenerateSerializer, Immutable, Alias("huginn.pool-snapshot")]
public sealed record PoolSnapshot(
    [property: Id(0)] long Version,
    [property: Id(1)] IReadOnlyList<PartitionSummary> Partitions)
{
    public int DevicesOnline => Partitions.Sum(p => p.DevicesOnline);
    public double GflopsOnline => Partitions.Sum(p => p.TotalGflops);
}

/// <summary>Partition keys: devices of one hardware class are spread over a fixed number of partitions by id hash.</summary>
public static class RoutingPartitions
{
    public static string KeyFor(string hardwareClass, string deviceId, int partitionsPerClass) =>
        $"{hardwareClass}/{StableHash(deviceId) % (uint)partitionsPerClass}";

    /// <summary>FNV-1a: stable across processes and runtimes, unlike string.GetHashCode.</summary>
    public static uint StableHash(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return hash;
    }
}
