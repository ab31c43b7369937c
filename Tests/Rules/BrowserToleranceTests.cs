using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Verification;
using Huginn.Grains.Rules;
using Huginn.Workloads;

namespace Huginn.Tests.Rules;

/// <summary>The browser class's tolerances (docs/VERIFICATION.md, "browser"): used when either side of an audit is a browser.</summary>
public sealed class BrowserToleranceTests
{
    /// <summary>Browser tolerances set apart from the others, so that the test sees which one applied.</summary>
    private static readonly ToleranceOptions Options = new() { Train = 1e-3, Infer = 1e-4, BrowserTrain = 5e-3, BrowserInfer = 5e-4 };

    private static readonly string Browser = HardwareClass.Kind(DeviceKind.Browser) + "-2g";

    [Theory]
    [InlineData(WorkloadKind.Train, "browser-2g", 5e-3)]
    [InlineData(WorkloadKind.Infer, "browser-4g", 5e-4)]
    [InlineData(WorkloadKind.Prep, "browser-2g", 0)]
    [InlineData(WorkloadKind.Train, "cpu-16g", 1e-3)]
    [InlineData(WorkloadKind.Infer, "gpu-24g", 1e-4)]
    [InlineData(WorkloadKind.Train, "", 1e-3)]
    public void A_browser_result_carries_the_browser_class_tolerance(WorkloadKind kind, string hardwareClass, double expected)
    {
        Assert.Equal(expected, Tolerance.For(kind, NumericPrecision.Fp32, Options, hardwareClass));
    }

    [Fact]
    public void Bf16_keeps_its_own_tolerance_since_browsers_run_fp32_only()
    {
        Assert.Equal(Options.Bf16Train, Tolerance.For(WorkloadKind.Train, NumericPrecision.Bf16, Options, Browser));
    }

    [Fact]
    public void The_defaults_are_the_measured_choice()
    {
        var defaults = new ToleranceOptions();
        Assert.Equal(1e-3, defaults.BrowserTrain);
        Assert.Equal(1e-4, defaults.BrowserInfer);
    }

    [Fact]
    public void An_audit_with_a_browser_on_either_side_is_compared_at_the_browser_tolerance()
    {
        // 3e-3 apart: over the TorchSharp worker's 1e-3, within this browser tolerance of 5e-3.
        float[] torch = [1, 0, 0];
        float[] browser = [1, 3e-3f, 0];
        var distance = TensorComparison.RelativeL2(torch, browser);
        Assert.InRange(distance, 1e-3, 5e-3);
        var a = Entry("worker", Tolerance.For(WorkloadKind.Train, NumericPrecision.Fp32, Options, "cpu-16g"));
        var b = Entry("tab", Tolerance.For(WorkloadKind.Train, NumericPrecision.Fp32, Options, Browser));

        Assert.True(Verification.Agree(a, b, (_, _) => distance).Agree);
        Assert.True(Verification.Agree(b, a, (_, _) => distance).Agree);
        Assert.False(Verification.Agree(a, a with { DeviceId = "worker-2" }, (_, _) => distance).Agree);
    }

    private static VerificationEntry Entry(string device, double tolerance) =>
        new(device, $"lease-{device}", WorkloadKind.Train, tolerance, new ResultRef($"blob-{device}", 12, 0.5, 16));
}
