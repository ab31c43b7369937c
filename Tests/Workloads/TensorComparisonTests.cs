using Huginn.Grains.Rules;
using System.Text;
using Huginn.Workloads;
using Xunit;

namespace Huginn.Tests.Workloads;

public sealed class TensorComparisonTests
{
    [Fact]
    public void Relative_l2_is_zero_for_identical_vectors()
    {
        float[] a = [1.5f, -2f, 3.25f];

        Assert.Equal(0.0, TensorComparison.RelativeL2(a, [1.5f, -2f, 3.25f]));
    }

    [Fact]
    public void Relative_l2_is_zero_for_two_zero_vectors()
    {
        Assert.Equal(0.0, TensorComparison.RelativeL2(new float[3], new float[3]));
        Assert.Equal(0.0, TensorComparison.RelativeL2([], []));
    }

    [Fact]
    public void Relative_l2_divides_by_the_larger_norm_whichever_side_it_is_on()
    {
        float[] a = [3f, 4f];
        float[] b = [0f, 0f];
        float[] c = [6f, 8f];

        Assert.Equal(1.0, TensorComparison.RelativeL2(a, b));
        Assert.Equal(1.0, TensorComparison.RelativeL2(b, a));
        Assert.Equal(0.5, TensorComparison.RelativeL2(a, c));
        Assert.Equal(0.5, TensorComparison.RelativeL2(c, a));
    }

    [Fact]
    public void Relative_l2_is_infinite_when_lengths_differ()
    {
        Assert.Equal(double.PositiveInfinity, TensorComparison.RelativeL2([1f, 2f], [1f, 2f, 0f]));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Relative_l2_is_infinite_when_any_value_is_not_finite(float bad)
    {
        Assert.Equal(double.PositiveInfinity, TensorComparison.RelativeL2([1f, bad], [1f, 2f]));
        Assert.Equal(double.PositiveInfinity, TensorComparison.RelativeL2([1f, 2f], [1f, bad]));
        Assert.False(TensorComparison.WithinTolerance([bad], [bad], 1e9));
    }

    [Fact]
    public void Within_tolerance_accepts_rounding_noise_and_rejects_a_changed_value()
    {
        var a = Enumerable.Range(1, 100).Select(i => (float)i).ToArray();
        var noisy = a.Select(x => x * (1 + 1e-6f)).ToArray();
        var changed = (float[])a.Clone();
        changed[50] += 10;

        Assert.True(TensorComparison.WithinTolerance(a, noisy, 1e-4));
        Assert.False(TensorComparison.WithinTolerance(a, changed, 1e-2));
    }

    [Fact]
    public void Zero_tolerance_accepts_only_identical_values()
    {
        Assert.True(TensorComparison.WithinTolerance([1f, -0f], [1f, 0f], 0));
        Assert.False(TensorComparison.WithinTolerance([1f, 2f], [1f, BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(2f) + 1)], 0));
    }

    [Fact]
    public void Digest_is_lowercase_hex_sha256()
    {
        Assert.Equal(ExampleSpecs.SomeBlobId, Digest.Sha256Hex(Encoding.ASCII.GetBytes("abc")));
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Digest.Sha256Hex([]));
    }

    [Fact]
    public void Tolerances_are_per_workload_and_exact_for_prep()
    {
        var tolerances = new ToleranceOptions();

        Assert.Equal(1e-3, tolerances.For(WorkloadKind.Train));
        Assert.Equal(1e-4, tolerances.For(WorkloadKind.Infer));
        Assert.Equal(0.0, tolerances.For(WorkloadKind.Prep));
    }
}
