using Huginn.Grains.Interfaces.Devices;
using Huginn.Workloads;

namespace Huginn.Grains.Rules;

/// <summary>
/// The tolerance rule: the largest relative L2 distance (<see cref="TensorComparison.RelativeL2"/>) at which two
/// results of the same shard count as the same. The values are configuration (<see cref="ToleranceOptions"/>,
/// <c>Huginn:Pool:Tolerances</c>), calibrated against honest devices in docs/VERIFICATION.md: a training delta
/// after up to 100 SGD steps 1e-3, one inference pass 1e-4, prep exact (compared by digest, never by distance).
/// The worker's calibration reports against the same defaults, which is why the options live in Workloads.
/// </summary>
public static class Tolerance
{
    /// <summary>The tolerance that applies to a shard of this workload kind in fp32.</summary>
    public static double For(WorkloadKind kind, ToleranceOptions options) => For(kind, NumericPrecision.Fp32, options);

    /// <summary>
    /// The tolerance that applies to a shard of this workload kind at this precision: bf16 has its own, wider ones,
    /// calibrated between devices of one hardware class, which is the only class its audits run on
    /// (<see cref="Routing.AuditClass"/>).
    /// </summary>
    public static double For(WorkloadKind kind, string precision, ToleranceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.For(kind, precision);
    }

    /// <summary>
    /// The tolerance for a result of a device of <paramref name="hardwareClass"/> (<see cref="HardwareClass.Of"/>):
    /// the browser class's entries for a browser (<see cref="ToleranceOptions.BrowserTrain"/>), else
    /// <see cref="For(WorkloadKind, string, ToleranceOptions)"/>. Each result carries its own; a pair is compared at the
    /// wider of the two (<see cref="Verification.Agree(VerificationEntry, VerificationEntry, Func{VerificationEntry, VerificationEntry, double})"/>),
    /// so an audit with a browser on either side uses the browser's.
    /// </summary>
    public static double For(WorkloadKind kind, string precision, ToleranceOptions options, string hardwareClass)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.For(kind, precision, IsBrowser(hardwareClass));
    }

    /// <summary>Whether a hardware class key ("browser-2g") is a browser's.</summary>
    public static bool IsBrowser(string? hardwareClass) =>
        HardwareClass.KindOf(hardwareClass) == DeviceKind.Browser;

    /// <summary>
    /// Whether a measured distance is within the tolerance. A non-finite distance (different lengths, a NaN or an
    /// infinite value in either result) is never within any tolerance.
    /// </summary>
    public static bool Within(double distance, double tolerance) => double.IsFinite(distance) && distance <= tolerance;
}
