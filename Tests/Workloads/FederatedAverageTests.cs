using Huginn.Workloads;
using Xunit;

namespace Huginn.Tests.Workloads;

public sealed class FederatedAverageTests
{
    [Fact]
    public void Average_is_weighted_by_samples()
    {
        var average = new FederatedAverage(2);
        average.Add([1f, 2f], 1);
        average.Add([3f, 6f], 3);

        Assert.Equal(4, average.TotalSamples);
        Assert.Equal([12.5f, 25f], average.ApplyTo([10f, 20f]));
    }

    [Fact]
    public void Empty_average_leaves_the_weights_unchanged()
    {
        Assert.Equal([1f, 2f], new FederatedAverage(2).ApplyTo([1f, 2f]));
    }

    [Fact]
    public void Restored_average_continues_where_it_left_off()
    {
        var uninterrupted = new FederatedAverage(3);
        uninterrupted.Add([0.1f, 0.2f, 0.3f], 7);
        uninterrupted.Add([-0.5f, 0.25f, 1f], 2);
        var saved = new FederatedAverage(3);
        saved.Add([0.1f, 0.2f, 0.3f], 7);

        var restored = new FederatedAverage(saved.Sums, saved.TotalSamples);
        restored.Add([-0.5f, 0.25f, 1f], 2);

        Assert.Equal(uninterrupted.Sums, restored.Sums);
        Assert.Equal(uninterrupted.ApplyTo([1f, 1f, 1f]), restored.ApplyTo([1f, 1f, 1f]));
    }

    [Fact]
    public void Sums_are_a_copy()
    {
        var average = new FederatedAverage(1);
        average.Add([1f], 1);

        average.Sums[0] = 100;

        Assert.Equal([1.0], average.Sums);
    }

    [Fact]
    public void Delta_of_the_wrong_length_is_rejected()
    {
        var average = new FederatedAverage(2);

        Assert.Throws<ArgumentException>(() => average.Add([1f], 1));
        Assert.Throws<ArgumentException>(() => average.ApplyTo([1f, 2f, 3f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => average.Add([1f, 2f], -1));
    }
}
