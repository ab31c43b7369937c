namespace Huginn.Workloads;

/// <summary>
/// The arithmetic a job's shards run in (<see cref="JobSpec.Precision"/>). fp32 (TF32 off) is the default and what
/// audits across hardware classes compare. bf16 is mixed precision on GPUs: matrix products and convolutions in
/// bfloat16, everything else and the master weights in float32, the way PyTorch's autocast does it. Its results are
/// close only to results of the same kind of hardware, so a bf16 shard is audited on the primary's own hardware class
/// with its own tolerance (docs/VERIFICATION.md, "bf16").
/// </summary>
public static class NumericPrecision
{
    public const string Fp32 = "fp32";
    public const string Bf16 = "bf16";

    /// <summary>
    /// What one bf16 FLOP counts as, in the fp32 FLOPs that devices report and prices are set in: a bf16 shard is
    /// timed and priced as its FLOPs × this. 0.5 assumes a GPU runs the pool's models twice as fast in bf16 as in fp32
    /// with TF32 off, which is conservative (an H100's dense bf16 peak is ~15× its fp32 one; small models are
    /// memory-bound, which is why not more): leases stay long enough and clients pay half. Not measured on a GPU yet
    /// (docs/BENCHMARKS.md, row 7); the observed shard times of each device correct it per device.
    /// </summary>
    public const double Bf16FlopWeight = 0.5;

    public static bool IsKnown(string? precision) => precision is Fp32 or Bf16;

    public static bool IsBf16(JobSpec spec) => spec.Precision == Bf16;
}
