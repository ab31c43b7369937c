namespace Huginn.Workloads;

/// <summary>
/// The largest relative L2 distance (<see cref="TensorComparison.RelativeL2"/>) at which two results of the same
/// shard count as the same. Provisional until calibrated against measured differences between honest devices.
/// </summary>
public sealed record ToleranceOptions
{
    /// <summary>Weight deltas after several SGD steps: float32 rounding differences grow with each step.</summary>
    public double Train { get; set; } = 1e-3;
    /// <summary>One forward pass: only the summation order differs between devices.</summary>
    public double Infer { get; set; } = 1e-4;

    /// <summary>The tolerance of a workload kind; 0 for prep, whose results must match exactly (by digest).</summary>
    public double For(WorkloadKind kind) => kind switch
    {
        WorkloadKind.Train => Train,
        WorkloadKind.Infer => Infer,
        WorkloadKind.Prep => 0,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
