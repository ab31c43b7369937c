using Huginn.Grains.Rules;
using Huginn.Workloads;

namespace Huginn.Tests.Rules;

public sealed class ResultIntegrityTests
{
    [Fact]
    public void A_result_must_report_the_samples_its_shard_has()
    {
        var shard = new ShardPlan { SampleCount = 100, Steps = 5, BatchSize = 16 };

        Assert.Equal(80, ResultIntegrity.ExpectedSamples(WorkloadKind.Train, shard));
        Assert.Equal(100, ResultIntegrity.ExpectedSamples(WorkloadKind.Infer, shard));
        Assert.Null(ResultIntegrity.Problem(WorkloadKind.Train, 80, 0.5, 80));
        Assert.Contains("-1 samples", ResultIntegrity.Problem(WorkloadKind.Train, 80, 0.5, -1));
        Assert.Contains("81 samples", ResultIntegrity.Problem(WorkloadKind.Infer, 80, double.NaN, 81));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-0.1)]
    public void A_training_loss_is_a_finite_number_zero_or_more(double loss)
    {
        Assert.Contains("training loss", ResultIntegrity.Problem(WorkloadKind.Train, 10, loss, 10));
    }

    [Fact]
    public void Inference_and_prep_report_no_loss()
    {
        Assert.Null(ResultIntegrity.Problem(WorkloadKind.Infer, 10, double.NaN, 10));
        Assert.Null(ResultIntegrity.Problem(WorkloadKind.Prep, 10, double.NaN, 10));
        Assert.Contains("has none", ResultIntegrity.Problem(WorkloadKind.Prep, 10, 0.3, 10));
    }

    [Fact]
    public void Audited_losses_agree_within_the_tolerance_relative_to_the_larger()
    {
        Assert.True(ResultIntegrity.LossesAgree(0.5, 0.5000004, 1e-3));
        Assert.True(ResultIntegrity.LossesAgree(0, 0, 1e-3));
        Assert.True(ResultIntegrity.LossesAgree(double.NaN, double.NaN, 1e-4));
        Assert.False(ResultIntegrity.LossesAgree(0.5, 1e30, 1e-3));
        Assert.False(ResultIntegrity.LossesAgree(0.5, 0.51, 1e-3));
        Assert.False(ResultIntegrity.LossesAgree(0.5, double.NaN, 1e-3));
    }
}
