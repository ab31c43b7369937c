using Huginn.Workloads;
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
    // Id 7 held the open leases; they are the device grain's working memory now (a lease costs one write, its
    // verdict). Do not reuse 7.
    [Id(8)] public string[] CachedBlobIds { get; set; } = [];
    [Id(9)] public DateTimeOffset? BannedAt { get; set; }
    /// <summary>
    /// Verdicts already applied, by lease id, so a retried notice never counts twice. A window, not the whole
    /// history: a job retries a notice within seconds (its outbox), so the last <see cref="AppliedVerdictWindow"/>
    /// suffice, and the state a device writes on every verdict stays the same size however long it works.
    /// </summary>
    [Id(10)] public HashSet<string> AppliedVerdicts { get; set; } = [];
    /// <summary><see cref="AppliedVerdicts"/> in the order they were applied, oldest first.</summary>
    [Id(11)] public List<string> AppliedVerdictOrder { get; set; } = [];
    /// <summary>
    /// What accepted results showed of the device's speed (<see cref="Rules.ObservedSpeed"/>). Updated in memory
    /// on each result and written with the next verdict, so that it costs no write of its own.
    /// </summary>
    [Id(12)] public DeviceSpeed Speed { get; set; } = DeviceSpeed.Unobserved;

    public const int AppliedVerdictWindow = 1024;

    /// <summary>Records a verdict's lease id; false when it was already applied.</summary>
    public bool TryApplyVerdict(string leaseId)
    {
        if (!AppliedVerdicts.Add(leaseId)) return false;
        // A state written before the window existed has ids without an order: keep them, oldest first.
        if (AppliedVerdictOrder.Count != AppliedVerdicts.Count - 1) AppliedVerdictOrder = [.. AppliedVerdicts.Where(id => id != leaseId)];
        AppliedVerdictOrder.Add(leaseId);
        if (AppliedVerdictOrder.Count > AppliedVerdictWindow)
        {
            var forgotten = AppliedVerdictOrder.Count - AppliedVerdictWindow;
            foreach (var old in AppliedVerdictOrder.Take(forgotten)) AppliedVerdicts.Remove(old);
            AppliedVerdictOrder.RemoveRange(0, forgotten);
        }
        return true;
    }
}

/// <summary>
/// A lease as the device holds it: which shard, until when, what a valid output looks like, and when it was offered
/// with how many FLOPs (for <see cref="Rules.ObservedSpeed"/>).
/// </summary>
[GenerateSerializer, Alias("huginn.open-lease")]
public sealed record OpenLease(
    [property: Id(0)] ShardRef Shard,
    [property: Id(1)] DateTimeOffset Deadline,
    [property: Id(2)] int ExpectedValues,
    [property: Id(3)] int ExpectedBytes,
    [property: Id(4)] DateTimeOffset OfferedAt,
    [property: Id(5)] long Flops,
    [property: Id(6)] WorkloadKind Kind,
    [property: Id(7)] long ExpectedSamples,
    [property: Id(8)] string[] InputBlobIds);
