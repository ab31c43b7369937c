using Huginn.Grains.Rules;
using Huginn.Workloads;

namespace Huginn.Tests.Rules;

/// <summary>The worked example in README.md ("Pricing"), computed by the code that prices real jobs.</summary>
public sealed class PricingExampleTests
{
    public static readonly JobSpec MnistSizedTraining = new()
    {
        Kind = WorkloadKind.Train,
        Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 784, HiddenSizes = [512, 512], OutputSize = 10, Loss = ModelSpec.CrossEntropy },
        Dataset = new DatasetSpec { Synthetic = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Blobs, Samples = 60_000, Seed = 1 } },
        Rounds = 10,
        ShardsPerRound = 16,
        LocalSteps = 100,
        BatchSize = 256,
        LearningRate = 0.05f,
    };

    [Fact]
    public void Readme_pricing_example_holds_with_the_default_prices()
    {
        var plan = JobPlanner.Plan(MnistSizedTraining);
        var estimate = Pricing.Estimate(plan, expectedAuditFraction: 0.05, new PricingOptions());
        var bound = Pricing.Estimate(plan, expectedAuditFraction: 1.0, new PricingOptions());

        Assert.Equal(ExpectedFlopsPerShard, plan.FlopsPerShard);
        Assert.Equal(ExpectedShardPrice, Pricing.ShardPriceMicroHu(plan.FlopsPerShard, new PricingOptions()));
        Assert.Equal((ExpectedWork, ExpectedAudit, ExpectedFee, ExpectedTotal), (estimate.WorkMicroHu, estimate.AuditMicroHu, estimate.FeeMicroHu, estimate.TotalMicroHu));
        Assert.Equal(ExpectedEur, estimate.Eur);
        Assert.Equal(ExpectedEscrow, bound.TotalMicroHu);
    }

    // 100 steps × 256 samples × 3 (forward + backward ≈ 3 forwards) × 1,337,344 forward FLOP per sample.
    private const long ExpectedFlopsPerShard = 102_708_019_200;
    // ⌈1.027e11 / 1e15 HU⁻¹ × 10⁶⌉ micro-HU.
    private const long ExpectedShardPrice = 103;
    private const long ExpectedWork = 16_480, ExpectedAudit = 907, ExpectedFee = 1_739, ExpectedTotal = 19_126, ExpectedEscrow = 38_069;
    private const decimal ExpectedEur = 0.00401646m;
}
