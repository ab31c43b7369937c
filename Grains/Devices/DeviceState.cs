using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;

namespace Huginn.Grains.Devices;

[GenerateSerializer, Alias("huginn.device-state")]
public sealed class DeviceState
{
    [Id(0)] public bool Registered { get; set; }
    [Id(1)] public string Name { get; set; } = "";
    [Id(2)] public string OwnerAccountId { get; set; } = "";
    [Id(3)] public DeviceCapabilities? Capabilities { get; set; }
    [Id(4)] public string HardwareClass { get; set; } = "";
    [Id(5)] public DeviceStatus Status { get; set; }
    [Id(6)] public DeviceRecord Record { get; set; } = new();
    [Id(7)] public Dictionary<string, OpenLease> OpenLeases { get; set; } = [];
    [Id(8)] public string[] CachedBlobIds { get; set; } = [];
    [Id(9)] public DateTimeOffset? BannedAt { get; set; }
    /// <summary>Verdicts already applied, by lease id, so a retried notice never counts twice.</summary>
    [Id(10)] public HashSet<string> AppliedVerdicts { get; set; } = [];
}

/// <summary>A lease as the device holds it: which shard, until when, and what a valid output looks like.</summary>
[GenerateSerializer, Alias("huginn.open-lease")]
public sealed record OpenLease(
    [property: Id(0)] ShardRef Shard,
    [property: Id(1)] DateTimeOffset Deadline,
    [property: Id(2)] int ExpectedValues,
    [property: Id(3)] int ExpectedBytes);
