using Huginn.Grains.Rules;
using Huginn.Workloads;
using Xunit;

namespace Huginn.Tests.Workloads;

public sealed class PricingTests
{
    private static readonly PricingOptions Defaults = new();

    [Fact]
    public void Shard_price_is_proportional_to_flops_above_the_minimum()
    {
        Assert.Equal(1_000_000, Pricing.ShardPriceMicroHu(1_000_000_000_000_000, Defaults));
        Assert.Equal(3_000_000, Pricing.ShardPriceMicroHu(3_000_000_000_000_000, Defaults));
        Assert.Equal(2_500, Pricing.ShardPriceMicroHu(2_500_000_000_000, Defaults));
        Assert.Equal(5_000, Pricing.ShardPriceMicroHu(5_000_000_000_000, Defaults));
    }

    [Fact]
    public void Shard_price_never_falls_below_the_minimum()
    {
        Assert.Equal(10, Pricing.ShardPriceMicroHu(0, Defaults));
        Assert.Equal(10, Pricing.ShardPriceMicroHu(1_000_000_000, Defaults));
        Assert.Equal(10, Pricing.ShardPriceMicroHu(10_000_000_000, Defaults));
        Assert.Equal(11, Pricing.ShardPriceMicroHu(11_000_000_000, Defaults));
    }

    [Fact]
    public void Shard_price_rounds_up_to_a_whole_micro_hu()
    {
        Assert.Equal(16, Pricing.ShardPriceMicroHu(15_000_000_001, Defaults));
        Assert.Equal(15, Pricing.ShardPriceMicroHu(15_000_000_000, Defaults));
    }

    [Fact]
    public void Fee_is_the_pool_rate_rounded_up()
    {
        Assert.Equal(100, Pricing.FeeMicroHu(1000, Defaults));
        Assert.Equal(101, Pricing.FeeMicroHu(1001, Defaults));
        Assert.Equal(0, Pricing.FeeMicroHu(0, Defaults));
    }

    [Fact]
    public void Estimate_adds_audits_with_a_tie_break_allowance_and_the_fee_on_both()
    {
        // 12 shards of 5 steps · 32 samples · 3 · 96 FLOPs = 46,080 FLOPs, at one micro-HU per FLOP.
        var options = new PricingOptions { FlopsPerHu = 1_000_000, MinShardMicroHu = 0 };
        var plan = JobPlanner.Plan(ExampleSpecs.Train() with { Rounds = 3, ShardsPerRound = 4, LocalSteps = 5, BatchSize = 32 });

        var estimate = Pricing.Estimate(plan, 0.1, options);

        // audit ⌈552,960 · 0.1 · 1.1⌉ = ⌈60,825.6⌉; fee ⌈(552,960 + 60,826) · 0.1⌉ = ⌈61,378.6⌉
        Assert.Equal(new CostEstimate(552_960, 60_826, 61_379, 675_165, 0.14178465m, 12, 0.1), estimate);
    }

    [Fact]
    public void Estimate_prices_each_shard_so_the_minimum_applies_per_shard()
    {
        var plan = JobPlanner.Plan(ExampleSpecs.Train() with { Rounds = 2, ShardsPerRound = 3 });

        var estimate = Pricing.Estimate(plan, 0, Defaults);

        Assert.Equal(6 * 10, estimate.WorkMicroHu);
        Assert.Equal(0, estimate.AuditMicroHu);
        Assert.Equal(6, estimate.FeeMicroHu);
        Assert.Equal(66, estimate.TotalMicroHu);
    }

    [Fact]
    public void Estimate_of_uneven_slices_is_the_sum_of_the_shard_prices()
    {
        var options = new PricingOptions { FlopsPerHu = 1_000_000, MinShardMicroHu = 0 };
        var plan = JobPlanner.Plan(ExampleSpecs.Infer(samples: 10, shards: 4));

        var estimate = Pricing.Estimate(plan, 1, options);

        Assert.Equal(plan.FirstRoundShards.Sum(s => Pricing.ShardPriceMicroHu(s.Flops, options)), estimate.WorkMicroHu);
        Assert.Equal(960, estimate.WorkMicroHu);
        Assert.Equal(1056, estimate.AuditMicroHu);
    }

    [Fact]
    public void Estimate_rejects_an_audit_fraction_outside_zero_to_one()
    {
        var plan = JobPlanner.Plan(ExampleSpecs.Train());

        Assert.Throws<ArgumentOutOfRangeException>(() => Pricing.Estimate(plan, 1.5, Defaults));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pricing.Estimate(plan, double.NaN, Defaults));
    }

    [Fact]
    public void Micro_hu_converts_exactly()
    {
        Assert.Equal(12_500_000, MicroHu.FromHu(12.5m));
        Assert.Equal(1, MicroHu.FromHu(0.0000019m));
        Assert.Equal(-3, MicroHu.FromHu(-0.0000031m));
        Assert.Equal(0.000001m, MicroHu.ToHu(1));
        Assert.Equal(12.5m, MicroHu.ToHu(12_500_000));
    }
}
