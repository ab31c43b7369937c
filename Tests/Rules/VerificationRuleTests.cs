using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Rules;
using Huginn.Grains.Interfaces.Verification;
using Huginn.Workloads;

namespace Huginn.Tests.Rules;

public sealed class VerificationRuleTests
{
    /// <summary>The results' values by blob id: what the verification grain streams from the blob store.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, float[]> Stored = new();

    private static VerificationEntry Result(string device, params float[] values)
    {
        var bytes = WeightsFormat.ToBytes(values);
        var blobId = Digest.Sha256Hex(bytes);
        Stored[blobId] = values;
        return new(device, $"lease-{device}", WorkloadKind.Train, Tolerance: 1e-3, new ResultRef(blobId, bytes.Length, 0.5, 16));
    }

    private static VerificationEntry Prep(string device, params byte[] bytes) =>
        new(device, $"lease-{device}", WorkloadKind.Prep, Tolerance: 0, new ResultRef(Digest.Sha256Hex(bytes), bytes.Length, double.NaN, 1));

    private static VerificationDecision Decide(params VerificationEntry[] entries) =>
        Verification.Decide(entries, (a, b) => TensorComparison.RelativeL2(Stored[a.Result.BlobId], Stored[b.Result.BlobId]));

    [Fact]
    public void One_result_is_not_enough_to_decide()
    {
        Assert.Equal(VerificationStatus.AwaitingResults, Decide(Result("a", 1, 2, 3)).Status);
    }

    [Fact]
    public void Two_results_within_tolerance_verify_each_other()
    {
        var decision = Decide(Result("a", 1, 2, 3), Result("b", 1.0001f, 2, 3));

        Assert.Equal(VerificationStatus.Decided, decision.Status);
        Assert.Equal(["a", "b"], decision.Winners);
        Assert.Empty(decision.Losers);
    }

    [Fact]
    public void Two_results_that_disagree_need_a_third_device()
    {
        var decision = Decide(Result("a", 1, 2, 3), Result("b", -1, -2, -3));

        Assert.Equal(VerificationStatus.NeedsTieBreak, decision.Status);
        Assert.Empty(decision.Winners);
    }

    [Fact]
    public void Third_result_sides_with_the_majority_and_the_odd_one_loses()
    {
        var decision = Decide(Result("liar", -1, -2, -3), Result("a", 1, 2, 3), Result("b", 1, 2.0001f, 3));

        Assert.Equal(VerificationStatus.Decided, decision.Status);
        Assert.Equal(["a", "b"], decision.Winners);
        Assert.Equal(["liar"], decision.Losers);
        Assert.Equal([1f, 2f, 3f], Stored[decision.Accepted!.BlobId]);
    }

    [Fact]
    public void Three_results_with_no_two_agreeing_are_disputed()
    {
        var decision = Decide(Result("a", 1, 0, 0), Result("b", 0, 1, 0), Result("c", 0, 0, 1));

        Assert.Equal(VerificationStatus.Disputed, decision.Status);
        Assert.Empty(decision.Winners);
        Assert.Empty(decision.Losers);
    }

    [Fact]
    public void Prep_results_must_match_to_the_bit()
    {
        Assert.Equal(VerificationStatus.Decided, Decide(Prep("a", 1, 2, 3), Prep("b", 1, 2, 3)).Status);
        Assert.Equal(VerificationStatus.NeedsTieBreak, Decide(Prep("a", 1, 2, 3), Prep("b", 1, 2, 4)).Status);
    }

    [Fact]
    public void Non_finite_values_never_agree()
    {
        var decision = Decide(Result("a", float.NaN, 2, 3), Result("b", float.NaN, 2, 3));

        Assert.Equal(VerificationStatus.NeedsTieBreak, decision.Status);
    }

    [Fact]
    public void Prep_results_agree_only_when_their_bytes_are_identical()
    {
        var a = new ShardOutput([], [1, 2, 3], double.NaN, 3);

        Assert.True(Verification.Agree(WorkloadKind.Prep, a, a with { Bytes = [1, 2, 3] }, tolerance: 0).Agree);
        Assert.False(Verification.Agree(WorkloadKind.Prep, a, a with { Bytes = [1, 2, 4] }, tolerance: 0).Agree);
    }

    [Fact]
    public void Train_results_agree_within_the_train_tolerance_and_on_the_sample_count()
    {
        var a = new ShardOutput([1f, 1f, 1f, 1f], [], 0.5, 64);
        var close = a with { Values = [1f, 1f, 1f, 1.001f] };
        var far = a with { Values = [1f, 1f, 1f, 1.01f] };

        Assert.True(Verification.Agree(WorkloadKind.Train, a, close, tolerance: 1e-3).Agree);
        Assert.False(Verification.Agree(WorkloadKind.Train, a, far, tolerance: 1e-3).Agree);
        Assert.False(Verification.Agree(WorkloadKind.Train, a, a with { Samples = 32 }, tolerance: 1e-3).Agree);
    }

    [Fact]
    public void Identical_numbers_over_different_sample_counts_are_a_disagreement_not_a_verification()
    {
        // The majority rule and the agreement test are one rule now: before, Decide ignored the sample count.
        var honest = Result("honest", 1, 2, 3);
        var shortcut = honest with { DeviceId = "shortcut", LeaseId = "lease-shortcut", Result = honest.Result with { Samples = 1 } };

        var decision = Decide(honest, shortcut);

        Assert.Equal(VerificationStatus.NeedsTieBreak, decision.Status);
        Assert.Equal(double.PositiveInfinity, decision.Distances.Single());
    }

    [Fact]
    public void A_distance_that_is_not_finite_is_never_within_tolerance()
    {
        Assert.True(Tolerance.Within(1e-4, 1e-3));
        Assert.True(Tolerance.Within(0, 0));
        Assert.False(Tolerance.Within(2e-3, 1e-3));
        Assert.False(Tolerance.Within(double.PositiveInfinity, double.MaxValue));
        Assert.False(Tolerance.Within(double.NaN, 1));
    }

    [Fact]
    public void Each_workload_kind_has_its_tolerance_and_prep_is_exact()
    {
        var options = new ToleranceOptions { Train = 1e-3, Infer = 1e-4 };

        Assert.Equal(1e-3, Tolerance.For(WorkloadKind.Train, options));
        Assert.Equal(1e-4, Tolerance.For(WorkloadKind.Infer, options));
        Assert.Equal(0, Tolerance.For(WorkloadKind.Prep, options));
    }
}
