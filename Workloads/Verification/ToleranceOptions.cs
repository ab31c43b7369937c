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

    /// <summary>
    /// bf16 weight deltas, compared only between devices of one hardware class. Measured on the CPU class
    /// (docs/VERIFICATION.md, "bf16"): honest results in another summation order at most 2.2e-4 apart, a shard one
    /// step short at least 6.1e-2 away, the fp32 result of the same shard up to 2.4e-1 away (which is why bf16 is
    /// never audited across precisions or classes). Not yet measured on a GPU class: the GPU check's --calibrate does.
    /// </summary>
    public double Bf16Train { get; set; } = 1e-2;
    /// <summary>
    /// bf16 outputs of one forward pass, same hardware class: honest results identical on the CPU class, the fp32
    /// outputs 2e-3 to 6e-3 away (an fp32 device running a bf16 inference is more exact, not dishonest).
    /// </summary>
    public double Bf16Infer { get; set; } = 1e-2;

    /// <summary>
    /// fp32 weight deltas when either side of an audit is a browser device (TensorFlow.js, web/src/executor).
    /// Measured (docs/VERIFICATION.md, "browser"): browser against TorchSharp at most 1.2e-6 apart on every model, on
    /// TF.js's cpu and wasm backends under Node and cpu, wasm, webgl and webgpu (SwiftShader) in headless Chromium;
    /// a shard one step short at least 1.7e-1 away. The same value as <see cref="Train"/> for now: ×800 over the
    /// spread, room for real GPUs' shader arithmetic, which was not measured.
    /// </summary>
    public double BrowserTrain { get; set; } = 1e-3;
    /// <summary>fp32 outputs of one forward pass when either side is a browser: measured at most 1.3e-7 apart.</summary>
    public double BrowserInfer { get; set; } = 1e-4;

    /// <summary>The fp32 tolerance of a workload kind; 0 for prep, whose results must match exactly (by digest).</summary>
    public double For(WorkloadKind kind) => For(kind, NumericPrecision.Fp32);

    /// <summary>
    /// The tolerance for a result of a browser device (<paramref name="browser"/>) or of any other: the browser class's
    /// entries in fp32; browsers run only fp32, so bf16 keeps its own (audited within one hardware class).
    /// </summary>
    public double For(WorkloadKind kind, string precision, bool browser) => (kind, precision, browser) switch
    {
        (WorkloadKind.Train, NumericPrecision.Fp32, true) => BrowserTrain,
        (WorkloadKind.Infer, NumericPrecision.Fp32, true) => BrowserInfer,
        _ => For(kind, precision),
    };

    /// <summary>The tolerance of a workload kind at a precision ("fp32" or "bf16"); 0 for prep.</summary>
    public double For(WorkloadKind kind, string precision) => (kind, precision) switch
    {
        (WorkloadKind.Prep, _) => 0,
        (WorkloadKind.Train, NumericPrecision.Fp32) => Train,
        (WorkloadKind.Infer, NumericPrecision.Fp32) => Infer,
        (WorkloadKind.Train, NumericPrecision.Bf16) => Bf16Train,
        (WorkloadKind.Infer, NumericPrecision.Bf16) => Bf16Infer,
        _ when !NumericPrecision.IsKnown(precision) => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown precision."),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
