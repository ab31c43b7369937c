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
    /// <summary>The tolerance that applies to a shard of this workload kind.</summary>
    public static double For(WorkloadKind kind, ToleranceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.For(kind);
    }

    /// <summary>
    /// Whether a measured distance is within the tolerance. A non-finite distance (different lengths, a NaN or an
    /// infinite value in either result) is never within any tolerance.
    /// </summary>
    public static bool Within(double distance, double tolerance) => double.IsFinite(distance) && distance <= tolerance;
}
