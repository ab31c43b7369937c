using Huginn.Workloads;

namespace Huginn.Worker.Execution;

/// <summary>What a calibration compared: two results of the same shard.</summary>
public enum CalibrationComparison
{
    /// <summary>The TorchSharp executor twice, same device and thread count.</summary>
    Repeat = 0,
    /// <summary>The TorchSharp executor at 1 intra-op thread against 2 (another summation order).</summary>
    Threads = 1,
    /// <summary>The TorchSharp executor against the plain C# <see cref="ReferenceExecutor"/> (mlp only).</summary>
    Reference = 2,
    /// <summary>
    /// Not honest: the executor against itself with one SGD step fewer, the smallest shortcut a lazy device could
    /// take (train only). A tolerance must stay below these distances while it covers the others.
    /// </summary>
    OneStepShort = 3,
    /// <summary>
    /// A bf16 result against the fp32 result of the same shard: what an audit across precisions (or across hardware
    /// classes whose bf16 kernels differ) would see. Neither side is dishonest and no tolerance is set from it; it is
    /// why bf16 shards are audited on their own hardware class only.
    /// </summary>
    Fp32 = 4,
}

/// <summary>
/// The relative L2 distances (<see cref="TensorComparison.RelativeL2"/>) of one comparison over the shards of one
/// case: smallest, median, largest, and how many shards were farther apart than the default tolerance of the
/// kind at the precision (<see cref="ToleranceOptions"/>). <see cref="Steps"/> is the SGD steps of a train shard, 0 for
/// infer; <see cref="Precision"/> is "fp32" or "bf16" (<see cref="NumericPrecision"/>).
/// </summary>
public sealed record CalibrationFigure(
    string Case,
    WorkloadKind Kind,
    string Precision,
    int Steps,
    CalibrationComparison Comparison,
    int Shards,
    double Min,
    double Median,
    double Max,
    int OverTolerance)
{
    /// <summary>Whether both results came from honest devices, so that the tolerance must accept them.</summary>
    public bool Honest => Comparison is CalibrationComparison.Repeat or CalibrationComparison.Threads or CalibrationComparison.Reference;

    /// <summary>Whether the second result is the one-step shortcut, which a tolerance must refuse.</summary>
    public bool Shortcut => Comparison == CalibrationComparison.OneStepShort;
}

/// <summary>What <see cref="ToleranceCalibration.Measure"/> found on one machine.</summary>
public sealed record CalibrationReport(string Device, int Threads, IReadOnlyList<CalibrationFigure> Figures)
{
    /// <summary>The largest distance between honest results of a workload kind at a precision: the spread a tolerance must cover.</summary>
    public double Max(WorkloadKind kind, string precision = NumericPrecision.Fp32) =>
        Honest(kind, precision).Select(f => f.Max).DefaultIfEmpty(0).Max();

    /// <summary>Honest results of a workload kind at a precision farther apart than its default tolerance, and all honest results compared.</summary>
    public (int Over, int Compared) OverTolerance(WorkloadKind kind, string precision = NumericPrecision.Fp32) =>
        (Honest(kind, precision).Sum(f => f.OverTolerance), Honest(kind, precision).Sum(f => f.Shards));

    /// <summary>The smallest distance of a one-step shortcut from the honest result (train); +Infinity when none was measured.</summary>
    public double SmallestShortcut(WorkloadKind kind, string precision = NumericPrecision.Fp32) =>
        Figures.Where(f => f.Kind == kind && f.Precision == precision && f.Shortcut).Select(f => f.Min).DefaultIfEmpty(double.PositiveInfinity).Min();

    /// <summary>Whether the report measured anything at this precision.</summary>
    public bool Covers(WorkloadKind kind, string precision) => Figures.Any(f => f.Kind == kind && f.Precision == precision);

    private IEnumerable<CalibrationFigure> Honest(WorkloadKind kind, string precision) =>
        Figures.Where(f => f.Kind == kind && f.Precision == precision && f.Honest);
}
