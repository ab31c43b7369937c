using Huginn.Grains.Interfaces.Devices;

namespace Huginn.Grains.Rules;

/// <summary>
/// The observed-speed rule: routing trusts what a device's completed shards showed, not what it claimed. A claim
/// (the worker's measured matmul rate, <c>HardwareProbe</c>) only places the first assignment; every accepted result
/// then says how fast the device really was, and the device is routed at the lower of the two.
/// <list type="bullet">
/// <item>A sample inverts <see cref="Routing.ExpectedSeconds"/>: the GFLOP/s that would have made the shard take the
/// time it took (from the offer to the result, less the fixed <see cref="PoolOptions.ShardOverhead"/>). A shard that
/// took no longer than the overhead says nothing (it would not have been slower on any device) and is not a sample.</item>
/// <item>The first sample replaces the unobserved state; later ones move the estimate by <see cref="Weight"/>, so one
/// slow shard (a busy host, a long download) costs a quarter, not all, of an honest device's standing.</item>
/// <item>Effective speed: the claim until a sample exists, then min(claim, observed): claiming more than one delivers
/// buys nothing after the first shard, and claiming less than one delivers is the device's own loss.</item>
/// </list>
/// </summary>
public static class ObservedSpeed
{
    /// <summary>How far each sample after the first moves the estimate.</summary>
    public const double Weight = 0.25;

    /// <summary>
    /// The GFLOP/s that explain a shard of <paramref name="flops"/> taking <paramref name="elapsed"/> on a device
    /// running <paramref name="slots"/> shards at once; null when the shard was too short to say anything.
    /// </summary>
    public static double? Sample(long flops, TimeSpan elapsed, int slots, PoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var computeSeconds = (elapsed - options.ShardOverhead).TotalSeconds;
        if (flops <= 0 || computeSeconds <= 0) return null;
        return flops * (double)Math.Max(1, slots) / (computeSeconds * 1e9 * options.ComputeEfficiency);
    }

    /// <summary>The estimate after one more sample.</summary>
    public static DeviceSpeed Update(DeviceSpeed speed, double sample)
    {
        ArgumentNullException.ThrowIfNull(speed);
        if (!double.IsFinite(sample) || sample <= 0) return speed;
        var gflops = speed.Samples == 0 ? sample : (1 - Weight) * speed.Gflops + Weight * sample;
        return new DeviceSpeed { Gflops = gflops, Samples = speed.Samples + 1 };
    }

    /// <summary>The GFLOP/s routing uses for a device: its claim until observed, then the lower of claim and observation.</summary>
    public static double Effective(double claimedGflops, DeviceSpeed speed)
    {
        ArgumentNullException.ThrowIfNull(speed);
        return speed.Samples == 0 ? claimedGflops : Math.Min(claimedGflops, speed.Gflops);
    }
}
