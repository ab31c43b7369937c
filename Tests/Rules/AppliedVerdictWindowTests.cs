using Huginn.Grains.Devices;

namespace Huginn.Tests.Rules;

/// <summary>A device counts each verdict once, and the record of what it counted does not grow with its history.</summary>
public sealed class AppliedVerdictWindowTests
{
    [Fact]
    public void A_retried_verdict_is_not_applied_twice()
    {
        var state = new DeviceState();
        Assert.True(state.TryApplyVerdict("lease-1"));
        Assert.False(state.TryApplyVerdict("lease-1"));
    }

    [Fact]
    public void The_window_keeps_the_most_recent_verdicts_and_forgets_the_oldest()
    {
        var state = new DeviceState();
        var total = DeviceState.AppliedVerdictWindow + 500;
        for (var i = 0; i < total; i++) Assert.True(state.TryApplyVerdict($"lease-{i}"));

        Assert.Equal(DeviceState.AppliedVerdictWindow, state.AppliedVerdicts.Count);
        Assert.Equal(DeviceState.AppliedVerdictWindow, state.AppliedVerdictOrder.Count);
        Assert.False(state.TryApplyVerdict($"lease-{total - 1}"));
        Assert.False(state.TryApplyVerdict($"lease-{total - DeviceState.AppliedVerdictWindow}"));
        Assert.True(state.TryApplyVerdict("lease-0"));
    }

    [Fact]
    public void A_state_written_before_the_window_existed_is_brought_under_it()
    {
        var state = new DeviceState { AppliedVerdicts = [.. Enumerable.Range(0, DeviceState.AppliedVerdictWindow + 10).Select(i => $"old-{i}")] };

        Assert.True(state.TryApplyVerdict("new"));

        Assert.Equal(DeviceState.AppliedVerdictWindow, state.AppliedVerdicts.Count);
        Assert.Contains("new", state.AppliedVerdicts);
        Assert.False(state.TryApplyVerdict("new"));
    }
}
