namespace Huginn.Grains.Rules;

/// <summary>The pool's prices: configuration, documented in the README.</summary>
public sealed record PricingOptions
{
    /// <summary>FLOPs of work one HU pays for.</summary>
    public double FlopsPerHu { get; set; } = 1e15;
    /// <summary>The least a shard costs, whatever its FLOPs: a shard has fixed costs (lease, transfer, verification).</summary>
    public long MinShardMicroHu { get; set; } = 10;
    /// <summary>The pool's share on top of the work and audits.</summary>
    public double PoolFeeRate { get; set; } = 0.10;
    /// <summary>What a client pays for one HU.</summary>
    public decimal EurPerHu { get; set; } = 0.21m;
}
