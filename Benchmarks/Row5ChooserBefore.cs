using Huginn.Grains;
using Huginn.Grains.Interfaces.Routing;
using Huginn.Grains.Routing;

namespace Huginn.Benchmarks;

/// <summary>
/// DeviceChooser and ShardRequirement.Allows as they were before row 5's changes (commit d28f3a2), kept only so that
/// the benchmark can time the old and the new scan in the same run, over the same partitions.
/// </summary>
public static class Row5ChooserBefore
{
    public static (DeviceSlotEntry Device, double ExpectedSeconds)? Choose(
        IEnumerable<DeviceSlotEntry> entries, RouteRequest request, PoolOptions options)
    {
        (DeviceSlotEntry Device, double ExpectedSeconds, double Score)? best = null;
        foreach (var entry in entries)
        {
            if (!IsCandidate(entry, request)) continue;
            var expected = Huginn.Grains.Rules.Routing.ExpectedSeconds(request.Requirement.Flops, entry.Gflops, entry.Slots, options);
            if (Huginn.Grains.Rules.Routing.LeaseDuration(expected, options) > request.MaxDuration) continue;

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

    private static bool IsCandidate(DeviceSlotEntry entry, RouteRequest request) =>
        entry.BusySlots < entry.Slots
        && !request.ExcludedDevices.Contains(entry.DeviceId)
        && !request.ExcludedOwners.Contains(entry.OwnerAccountId)
        && Allows(request, entry);

    private static bool Allows(RouteRequest request, DeviceSlotEntry entry)
    {
        var requirement = request.Requirement;
        if (Array.IndexOf(requirement.AllowedKinds, entry.Kind) < 0) return false;
        if (entry.Kind == Huginn.Workloads.DeviceKind.Browser && requirement.MinMemoryMb > Huginn.Workloads.ShardRequirement.BrowserMaxMemoryMb) return false;
        if (entry.WorkingMemoryMb < requirement.MinMemoryMb) return false;
        IEnumerable<string> runtimes = entry.Runtimes;
        return runtimes.Any(r => requirement.Runtimes.Contains(r, StringComparer.OrdinalIgnoreCase));
    }
}
