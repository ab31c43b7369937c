namespace Huginn.Grains.Rules;

/// <summary>
/// The release rule: giving leases back costs the device that does it. Each release lowers its reliability
/// (<see cref="Slashing.LeaseReleased"/>) and excludes its owner from that shard (Round); more than
/// <see cref="PoolOptions.MaxReleasesPerWindow"/> within <see cref="PoolOptions.ReleaseWindow"/> take the device out of
/// routing for <see cref="PoolOptions.ReleaseCooldown"/>. An honest worker gives back a lease or two when it stops or a
/// shard fails on it; a device that answers every assignment with a release is parked after a handful.
/// </summary>
public static class ReleaseLimit
{
    /// <summary>
    /// Records a release at <paramref name="now"/> in <paramref name="recent"/> (oldest first, pruned to the window)
    /// and returns the end of the cool-down it triggers, or null. A cool-down clears the window: the device starts
    /// afresh when it returns.
    /// </summary>
    public static DateTimeOffset? Record(Queue<DateTimeOffset> recent, DateTimeOffset now, PoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(recent);
        ArgumentNullException.ThrowIfNull(options);
        while (recent.Count > 0 && now - recent.Peek() > options.ReleaseWindow) recent.Dequeue();
        recent.Enqueue(now);
        if (recent.Count <= options.MaxReleasesPerWindow) return null;
        recent.Clear();
        return now + options.ReleaseCooldown;
    }
}
