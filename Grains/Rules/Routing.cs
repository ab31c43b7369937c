using Huginn.Grains.Interfaces.Routing;

namespace Huginn.Grains.Rules;

/// <summary>
/// The routing rule: which device runs a shard. Pure, so it reads and tests on its own; the partition grain
/// applies <see cref="Choose"/> to its devices, the router applies <see cref="OrderClasses"/> to the directory,
/// and the estimator asks <see cref="CanFinishWithinLease"/> of each partition's fastest device.
/// <list type="bullet">
/// <item>Timing: a shard is expected to take the fixed overhead plus its FLOPs over the device's effective speed
/// (advertised GFLOP/s × <see cref="PoolOptions.ComputeEfficiency"/>, shared among its slots); its lease is that
/// × <see cref="PoolOptions.LeaseSafetyFactor"/> + <see cref="PoolOptions.LeaseGrace"/>. A device whose lease would
/// exceed the limit never gets the shard.</item>
/// <item>Device choice: capable (kind, memory, runtime), a free slot, not excluded, owner not already involved and
/// not at the job's device cap (unless the device is one of its capped few),
/// can finish within the lease limit; lowest expected time × load ÷ reliability, halved when the device already
/// holds every input. A tie keeps the first scanned (partitions scan in id order: the lowest id).</item>
/// <item>Browsers (<see cref="Workloads.BrowserShardRule"/>): a browser gets a shard only when it is expected to take at most 30 s
/// there, at its own measured speed; the planner has already kept heavy shards off browsers by memory and model.</item>
/// <item>Audit class (<see cref="AuditClass"/>): an fp32 audit prefers the primary's class; a bf16 audit must run on it.</item>
/// <item>Class order: an audit's preferred class first; heavy shards (over <see cref="PoolOptions.HeavyShardThreshold"/>
/// on a reference CPU) fastest class first; light ones smallest class first, which keeps big GPUs free.</item>
/// </list>
/// </summary>
public static class Routing
{
    /// <summary>Seconds one shard should take on a device whose GFLOP/s are shared among its slots.</summary>
    public static double ExpectedSeconds(long flops, double gflops, int slots, PoolOptions options) =>
        options.ShardOverhead.TotalSeconds + flops * (double)Math.Max(1, slots) / (gflops * 1e9 * options.ComputeEfficiency);

    /// <summary>The lease a device gets for a shard expected to take <paramref name="expectedSeconds"/>.</summary>
    public static TimeSpan LeaseDuration(double expectedSeconds, PoolOptions options) =>
        TimeSpan.FromSeconds(expectedSeconds * options.LeaseSafetyFactor) + options.LeaseGrace;

    /// <summary>
    /// Whether a device of this speed could finish the shard within the lease limit: the one test the chooser, the
    /// router's class filter and the estimator all apply, so that none of them admits what another refuses.
    /// </summary>
    public static bool CanFinishWithinLease(long flops, double gflops, int slots, TimeSpan maxDuration, PoolOptions options) =>
        LeaseFits(ExpectedSeconds(flops, gflops, slots, options), maxDuration, options);

    /// <summary><see cref="CanFinishWithinLease"/> for a shard whose expected seconds are already known.</summary>
    public static bool LeaseFits(double expectedSeconds, TimeSpan maxDuration, PoolOptions options) =>
        LeaseDuration(expectedSeconds, options) <= maxDuration;

    /// <summary>Heavy shards go to the fastest class first, light ones to the smallest capable class first.</summary>
    public static bool IsHeavy(long flops, PoolOptions options) =>
        ExpectedSeconds(flops, options.ReferenceCpuGflops, 1, options) > options.HeavyShardThreshold.TotalSeconds;

    /// <summary>The device for a shard among one partition's entries, with its expected seconds; null when none qualifies.</summary>
    public static (DeviceSlotEntry Device, double ExpectedSeconds)? Choose(
        IEnumerable<DeviceSlotEntry> entries, RouteRequest request, PoolOptions options)
    {
        (DeviceSlotEntry Device, double ExpectedSeconds, double Score)? best = null;
        foreach (var entry in entries)
        {
            // Numbers first, strings last: on the silo a partition is scanned cold (its entries and their strings lie
            // all over the heap), and each string compared costs a cache miss or two per device scanned.
            if (entry.BusySlots >= entry.Slots) continue;
            var expected = ExpectedSeconds(request.Requirement.Flops, entry.Gflops, entry.Slots, options);
            if (!LeaseFits(expected, request.MaxDuration, options)) continue;
            if (!Workloads.BrowserShardRule.FitsTime(entry.Kind, expected)) continue;

            var load = 1.0 + (double)entry.BusySlots / entry.Slots;
            var score = expected * load / Math.Max(entry.Reliability, 0.01);
            // Even holding every input (half the score) it would not beat the best so far: its strings need not be read.
            if (best is { } current && score * 0.5 >= current.Score) continue;
            if (!IsCandidate(entry, request)) continue;
            if (request.InputBlobIds.Length > 0 && HoldsAll(entry.CachedBlobIds, request.InputBlobIds)) score *= 0.5;
            // A tie keeps the first: reading each tied device's id to compare would cost a cache miss per device.
            if (best is null || score < best.Value.Score) best = (entry, expected, score);
        }
        return best is { } b ? (b.Device, b.ExpectedSeconds) : null;
    }

    /// <summary>
    /// Whether a device could ever take the request, busy or not: capable, able to finish within the lease limit, not
    /// excluded, its owner not excluded.
    /// </summary>
    public static bool IsEligible(DeviceSlotEntry entry, RouteRequest request, PoolOptions options) =>
        CanFinishWithinLease(request.Requirement.Flops, entry.Gflops, entry.Slots, request.MaxDuration, options)
        && Workloads.BrowserShardRule.FitsTime(entry.Kind, ExpectedSeconds(request.Requirement.Flops, entry.Gflops, entry.Slots, options))
        && IsCandidate(entry with { BusySlots = 0 }, request);

    // Array.IndexOf rather than LINQ here and below: this runs for every device of a partition on every decision,
    // and delegates or boxed enumerators per device made a decision allocate ~120 B per device scanned.
    public static bool IsCandidate(DeviceSlotEntry entry, RouteRequest request) =>
        entry.BusySlots < entry.Slots
        && request.Requirement.Allows(entry.Kind, entry.WorkingMemoryMb, entry.Runtimes)
        && Array.IndexOf(request.ExcludedDevices, entry.DeviceId) < 0
        && Array.IndexOf(request.ExcludedOwners, entry.OwnerAccountId) < 0
        && (request.CappedOwners.Length == 0 || Array.IndexOf(request.CappedOwners, entry.OwnerAccountId) < 0
            || Array.IndexOf(request.CappedOwnersDevices, entry.DeviceId) >= 0);

    private static bool HoldsAll(string[] cached, string[] inputs)
    {
        foreach (var input in inputs)
        {
            if (Array.IndexOf(cached, input) < 0) return false;
        }
        return true;
    }

    /// <summary>
    /// The hardware class of a shard's next lease, given the class of its first (<paramref name="primaryClass"/>, null
    /// for a first lease): fp32 audits prefer it so that tolerances can stay tight, and may go elsewhere; bf16
    /// audits require it (homogeneous redundancy), since another class's bf16 kernels or an fp32 device land
    /// farther apart than a lazy device does.
    /// </summary>
    public static (string? Preferred, string? Required) AuditClass(string precision, string? primaryClass) =>
        precision == Workloads.NumericPrecision.Bf16 ? (primaryClass, primaryClass) : (primaryClass, null);

    /// <summary>
    /// Whether a shard's first lease must go to a class where a second owner could audit it: for bf16, whose audits
    /// may not leave the class (<see cref="AuditClass"/>); a primary alone in its class would wait for an audit forever.
    /// </summary>
    public static bool NeedsAuditableClass(string precision, string? primaryClass) =>
        precision == Workloads.NumericPrecision.Bf16 && primaryClass is null;

    /// <summary>Capable classes in the order they should be tried, each with its partitions (only the required class when one is).</summary>
    /// <remarks>
    /// Runs on every decision over every partition of the snapshot (~240 at 30 classes), so it is a loop, not a LINQ
    /// group-and-sort: the LINQ version allocated ~10 KB per decision at 88 partitions.
    /// </remarks>
    public static IReadOnlyList<List<PartitionSummary>> OrderClasses(PoolSnapshot snapshot, RouteRequest request, PoolOptions options)
    {
        var requirement = request.Requirement;
        // A few dozen classes at most (kind × memory tier): a list searched in order is cheaper than a dictionary.
        var classes = new List<(string Class, double Speed, List<PartitionSummary> Partitions, string? Owner, bool Owners)>();
        foreach (var p in snapshot.Partitions)
        {
            if (request.RequiredClass is { } required && p.HardwareClass != required) continue;
            if (!requirement.Allows(p.Kind, p.MaxMemoryMb, p.Runtimes)) continue;
            if (!CanFinishWithinLease(requirement.Flops, p.MaxGflops, 1, request.MaxDuration, options)) continue;
            if (!Workloads.BrowserShardRule.FitsTime(p.Kind, ExpectedSeconds(requirement.Flops, p.MaxGflops, 1, options))) continue;
            var i = 0;
            while (i < classes.Count && classes[i].Class != p.HardwareClass) i++;
            if (i == classes.Count)
            {
                classes.Add((p.HardwareClass, p.MaxGflops, [p], null, false));
            }
            else
            {
                classes[i].Partitions.Add(p);
                if (p.MaxGflops > classes[i].Speed) classes[i] = classes[i] with { Speed = p.MaxGflops };
            }
            // Two distinct owners among the partitions' owner samples: enough to know an audit has somewhere to go.
            foreach (var owner in p.OwnerSample)
            {
                if (classes[i].Owner is null) classes[i] = classes[i] with { Owner = owner };
                else if (classes[i].Owner != owner) classes[i] = classes[i] with { Owners = true };
            }
        }
        if (request.AuditableClassOnly) classes.RemoveAll(c => !c.Owners);
        var heavy = IsHeavy(requirement.Flops, options);
        classes.Sort((a, b) =>
        {
            var byPreference = (a.Class == request.PreferredClass ? 0 : 1).CompareTo(b.Class == request.PreferredClass ? 0 : 1);
            if (byPreference != 0) return byPreference;
            var bySpeed = heavy ? b.Speed.CompareTo(a.Speed) : a.Speed.CompareTo(b.Speed);
            return bySpeed != 0 ? bySpeed : string.CompareOrdinal(a.Class, b.Class);
        });
        return classes.ConvertAll(c => c.Partitions);
    }
}
