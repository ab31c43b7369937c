using Huginn.Grains.Interfaces.Routing;

namespace Huginn.Grains.Routing;

/// <summary>
/// Picks the device for a shard among one partition's entries. Pure, so the rules can be tested alone:
/// only capable devices with a free slot that can finish before the lease limit; among those the lowest
/// expected completion time, discounted for reliability and for already holding the shard's inputs.
/// </summary>
public static class DeviceChooser
{
    public static (DeviceSlotEntry Device, double ExpectedSeconds)? Choose(
        IEnumerable<DeviceSlotEntry> entries, RouteRequest request, PoolOptions options)
    {
        (DeviceSlotEntry Device, double ExpectedSeconds, double Score)? best = null;
        foreach (var entry in entries)
        {
            if (!IsCandidate(entry, request)) continue;
            var expected = ShardTiming.ExpectedSeconds(request.Requirement.Flops, entry.Gflops, entry.Slots, options);
            if (ShardTiming.LeaseDuration(expected, options) > request.MaxDuration) continue;

            var load = 1.0 + (double)entry.BusySlots / entry.Slots;
            var score = expected * load / Math.Max(entry.Reliability, 0.01);
            if (request.InputBlobIds.Length > 0 && request.InputBlobIds.All(entry.CachedBlobIds.Contains)) score *= 0.5;
            if (best is null || score < best.Value.Score
                || (score == best.Value.Score && string.CompareOrdinal(entry.DeviceId, best.Value.Device.DeviceId) < 0))
            {
                best = (entry, expected, score);
            }
        }
        return best is { } b ? (b.Device, b.ExpectedSeconds) : null;
    }

    public static bool IsCandidate(DeviceSlotEntry entry, RouteRequest request) =>
        entry.BusySlots < entry.Slots
        && !request.ExcludedDevices.Contains(entry.DeviceId)
        && !request.ExcludedOwners.Contains(entry.OwnerAccountId)
        && request.Requirement.Allows(entry.Kind, entry.WorkingMemoryMb, entry.Runtimes);
}
