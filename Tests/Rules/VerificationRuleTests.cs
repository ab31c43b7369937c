using Huginn.Grains.Interfaces.Verification;
using Huginn.Grains.Verification;
using Huginn.Workloads;

namespace Huginn.Tests.Rules;

public sealed class VerificationRuleTests
{
    private static VerificationEntry Result(string device, params float[] values) =>
        new(device, $"lease-{device}", WorkloadKind.Train, Tolerance: 1e-3, new ShardOutput { Values = values, Bytes = [], Loss = 0.5, Samples = 16 });

    private static VerificationEntry Prep(string device, params byte[] bytes) =>
        new(device, $"lease-{device}", WorkloadKind.Prep, Tolerance: 0, new ShardOutput { Values = [], Bytes = bytes, Loss = double.NaN, Samples = 1 });

    [Fact]
    public void One_result_is_not_enough_to_decide()
    {
        Assert.Equal(VerificationStatus.AwaitingResults, MajorityRule.Decide([Result("a", 1, 2, 3)]).Status);
    }

    [Fact]
    public void Two_results_within_tolerance_verify_each_other()
    {
        var decision = MajorityRule.Decide([Result("a", 1, 2, 3), Result("b", 1.0001f, 2, 3)]);

        Assert.Equal(VerificationStatus.Decided, decision.Status);
        Assert.Equal(["a", "b"], decision.Winners);
        Assert.Empty(decision.Losers);
    }

    [Fact]
    public void Two_results_that_disagree_need_a_third_device()
    {
        var decision = MajorityRule.Decide([Result("a", 1, 2, 3), Result("b", -1, -2, -3)]);

        Assert.Equal(VerificationStatus.NeedsTieBreak, decision.Status);
        Assert.Empty(decision.Winners);
    }

    [Fact]
    public void Third_result_sides_with_the_majority_and_the_odd_one_loses()
    {
        var decision = MajorityRule.Decide([Result("liar", -1, -2, -3), Result("a", 1, 2, 3), Result("b", 1, 2.0001f, 3)]);

        Assert.Equal(VerificationStatus.Decided, decision.Status);
        Assert.Equal(["a", "b"], decision.Winners);
        Assert.Equal(["liar"], decision.Losers);
        Assert.Equal([1f, 2f, 3f], decision.Accepted!.Values);
    }

    [Fact]
    public void Three_results_with_no_two_agreeing_are_disputed()
    {
        var decision = MajorityRule.Decide([Result("a", 1, 0, 0), Result("b", 0, 1, 0), Result("c", 0, 0, 1)]);

        Assert.Equal(VerificationStatus.Disputed, decision.Status);
        Assert.Empty(decision.Winners);
        Assert.Empty(decision.Losers);
    }

    [Fact]
    public void Prep_results_must_match_to_the_bit()
    {
        Assert.Equal(VerificationStatus.Decided, MajorityRule.Decide([Prep("a", 1, 2, 3), Prep("b", 1, 2, 3)]).Status);
        Assert.Equal(VerificationStatus.NeedsTieBreak, MajorityRule.Decide([Prep("a", 1, 2, 3), Prep("b", 1, 2, 4)]).Status);
    }

    [Fact]
    public void Non_finite_values_never_agree()
    {
        var decision = MajorityRule.Decide([Result("a", float.NaN, 2, 3), Result("b", float.NaN, 2, 3)]);

        Assert.Equal(VerificationStatus.NeedsTieBreak, decision.Status);
    }
}
