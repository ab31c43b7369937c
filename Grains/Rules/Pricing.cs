using Huginn.Workloads;

namespace Huginn.Grains.Rules;

/// <summary>
/// Prices from FLOPs the coordinator computes from the spec, never from what a device claims. All amounts are
/// rounded up to whole micro-HU, so the escrow always covers what will be paid.
/// </summary>
public static class Pricing
{
    /// <summary>Audits expected beyond the audit fraction: a mismatch needs a third run to break the tie.</summary>
    public const decimal TieBreakAllowance = 1.1m;

    /// <summary>max(MinShardMicroHu, ⌈flops / FlopsPerHu · 10⁶⌉): what a contributor earns for one verified shard.</summary>
    public static long ShardPriceMicroHu(long flops, PricingOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentOutOfRangeException.ThrowIfNegative(flops);
        if (!double.IsFinite(o.FlopsPerHu) || o.FlopsPerHu <= 0)
            throw new ArgumentOutOfRangeException(nameof(o), o.FlopsPerHu, "FlopsPerHu must be a positive number.");
        // In decimal: flops·10⁶ is exact there, and 1e15 FLOPs/HU divides without binary rounding.
        var micro = (decimal)flops * MicroHu.PerHu / (decimal)o.FlopsPerHu;
        return Math.Max(o.MinShardMicroHu, (long)decimal.Ceiling(micro));
    }

    /// <summary>⌈amount · PoolFeeRate⌉: the pool's fee on an amount of work (and audits).</summary>
    public static long FeeMicroHu(long workMicroHu, PricingOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentOutOfRangeException.ThrowIfNegative(workMicroHu);
        return (long)decimal.Ceiling(workMicroHu * (decimal)o.PoolFeeRate);
    }

    /// <summary>
    /// The cost of a whole job: every shard's price (the minimum applies per shard), audits of
    /// ⌈work · fraction · 1.1⌉ (see <see cref="TieBreakAllowance"/>), and the fee on work plus audits.
    /// </summary>
    public static CostEstimate Estimate(JobPlan plan, double expectedAuditFraction, PricingOptions o)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(o);
        if (!double.IsFinite(expectedAuditFraction) || expectedAuditFraction is < 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(expectedAuditFraction), expectedAuditFraction, "The audit fraction must be between 0 and 1.");

        // Slices differ by one sample at most: N mod S shards of a round are the larger ones.
        var larger = plan.Samples % plan.ShardsPerRound;
        var smaller = plan.ShardsPerRound - larger;
        var largerPrice = ShardPriceMicroHu(plan.FlopsFor((int)((plan.Samples + plan.ShardsPerRound - 1) / plan.ShardsPerRound)), o);
        var smallerPrice = ShardPriceMicroHu(plan.FlopsFor((int)(plan.Samples / plan.ShardsPerRound)), o);
        // One evaluation shard per round when the job has a validation split, priced at its own FLOPs.
        var evaluationPrice = plan.HasValidation ? ShardPriceMicroHu(plan.EvaluationFlops, o) : 0;
        var work = checked((larger * largerPrice + smaller * smallerPrice + evaluationPrice) * plan.Rounds);

        var audit = (long)decimal.Ceiling(work * (decimal)expectedAuditFraction * TieBreakAllowance);
        var fee = FeeMicroHu(checked(work + audit), o);
        var total = checked(work + audit + fee);
        return new CostEstimate(
            work,
            audit,
            fee,
            total,
            MicroHu.ToHu(total) * o.EurPerHu,
            checked((int)plan.TotalShards),
            expectedAuditFraction);
    }
}
