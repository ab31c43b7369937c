namespace Huginn.Grains.Routing;

/// <summary>How long a shard should take on a device, from the coordinator's FLOP count and the device's measured speed.</summary>
public static class ShardTiming
{
    /// <summary>Seconds one shard should take on a device whose GFLOP/s are shared among its slots.</summary>
    public static double ExpectedSeconds(long flops, double gflops, int slots, PoolOptions options) =>
        options.ShardOverhead.TotalSeconds + flops * (double)Math.Max(1, slots) / (gflops * 1e9 * options.ComputeEfficiency);

    /// <summary>The lease a device gets for a shard expected to take <paramref name="expectedSeconds"/>.</summary>
    public static TimeSpan LeaseDuration(double expectedSeconds, PoolOptions options) =>
        TimeSpan.FromSeconds(expectedSeconds * options.LeaseSafetyFactor) + options.LeaseGrace;

    /// <summary>Heavy shards go to the fastest class first, light ones to the smallest capable class first.</summary>
    public static bool IsHeavy(long flops, PoolOptions options) =>
        ExpectedSeconds(flops, options.ReferenceCpuGflops, 1, options) > options.HeavyShardThreshold.TotalSeconds;
}
