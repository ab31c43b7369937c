using Huginn.Grains.Interfaces.Routing;

namespace Huginn.Grains.Routing;

/// <summary>
/// Picks the device for a shard among one partition's entries. Pure, so the rules can be tested alone:
/// only capable devices with a free slot that can finish before the lease limit; among those the lowest
/// expected completion time, discounted for reliability and for already holding the shard's inputs.
/// Among equal scores the first one scanned is kept (partitions scan in id order: the lowest id).
/// </summary>
public static class DeviceChooser
{
    public static (DeviceSlotEntry Device, double ExpectedSeconds)? Choose(
        IEnumerable<DeviceSlotEntry> entries, RouteRequest request, PoolOptions options)
    {
        (DeviceSlotEntry Device, double ExpectedSeconds, double Score)? best = null;
        foreach (var entry in entries)
        {
            // Numbers first, strings last: on the silo a partition is scanned cold (its entries and their strings lie
            // all over the heap), and each string compared costs a cache miss or two per device scanned.
            if (entry.BusySlots >= entry.Slots) continue;
            var expected = ShardTiming.ExpectedSeconds(request.Requirement.Flops, entry.Gflops, entry.Slots, options);
            if (ShardTiming.LeaseDuration(expected, options) > request.MaxDuration) continue;

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

    // Array.IndexOf rather than LINQ here and below: this runs for every device of a partition on every decision,
    // and delegates or boxed enumerators per device made a decision allocate ~120 B per device scanned.
    public static bool IsCandidate(DeviceSlotEntry entry, RouteRequest request) =>
        entry.BusySlots < entry.Slots
        && request.Requirement.Allows(entry.Kind, entry.WorkingMemoryMb, entry.Runtimes)
        && Array.IndexOf(request.ExcludedDevices, entry.DeviceId) < 0
        && Array.IndexOf(request.ExcludedOwners, entry.OwnerAccountId) < 0;

    private static bool HoldsAll(string[] cached, string[] inputs)
    {
        foreach (var input in inputs)
        {
            if (Array.IndexOf(cached, input) < 0) return false;
        }
        return true;
    }
}
