using Huginn.Grains;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Rules;

namespace Huginn.Tests.Rules;

public sealed class ObservedSpeedTests
{
    private static readonly PoolOptions Options = new();

    [Fact]
    public void A_sample_is_the_speed_that_explains_the_time_a_shard_took_after_the_fixed_overhead()
    {
        // 1e12 FLOPs in 1 s + 4 s of compute at 25% efficiency: 1e12 / (4 · 1e9 · 0.25) = 1,000 GFLOP/s.
        var sample = ObservedSpeed.Sample(1_000_000_000_000, TimeSpan.FromSeconds(5), slots: 1, Options);

        Assert.Equal(1000, sample!.Value, 6);
        // Two slots share the device: the same time means twice the speed.
        Assert.Equal(2000, ObservedSpeed.Sample(1_000_000_000_000, TimeSpan.FromSeconds(5), slots: 2, Options)!.Value, 6);
        // The inverse of routing's own timing model.
        Assert.Equal(5, Routing.ExpectedSeconds(1_000_000_000_000, sample.Value, 1, Options), 9);
    }

    [Fact]
    public void A_shard_no_longer_than_the_overhead_says_nothing_about_speed()
    {
        Assert.Null(ObservedSpeed.Sample(1_000_000, Options.ShardOverhead, slots: 1, Options));
        Assert.Null(ObservedSpeed.Sample(1_000_000, TimeSpan.Zero, slots: 1, Options));
        Assert.Null(ObservedSpeed.Sample(0, TimeSpan.FromSeconds(10), slots: 1, Options));
    }

    [Fact]
    public void The_first_sample_replaces_the_claim_and_later_ones_move_it_by_a_quarter()
    {
        var first = ObservedSpeed.Update(DeviceSpeed.Unobserved, 100);
        var second = ObservedSpeed.Update(first, 20);

        Assert.Equal(new DeviceSpeed { Gflops = 100, Samples = 1 }, first);
        Assert.Equal(new DeviceSpeed { Gflops = 80, Samples = 2 }, second);
        Assert.Equal(second, ObservedSpeed.Update(second, double.NaN));
    }

    [Fact]
    public void Routing_uses_the_claim_until_observed_then_the_lower_of_claim_and_observation()
    {
        Assert.Equal(9_999_999, ObservedSpeed.Effective(9_999_999, DeviceSpeed.Unobserved));
        // A braggart is routed at what it delivered; an honest device that delivers more than it claimed keeps its claim.
        Assert.Equal(40, ObservedSpeed.Effective(9_999_999, new DeviceSpeed { Gflops = 40, Samples = 1 }));
        Assert.Equal(100, ObservedSpeed.Effective(100, new DeviceSpeed { Gflops = 250, Samples = 3 }));
    }
}
