using TorchSharp;

namespace Huginn.Worker.Hardware;

/// <summary>
/// The process-wide numeric settings of libtorch that verification depends on: two honest devices must agree
/// within the relative-L2 tolerance, which is calibrated for float32 arithmetic (docs/VERIFICATION.md).
/// </summary>
internal static class TorchPrecision
{
    private static readonly Lock Gate = new();
    private static bool _applied;

    public static void Apply()
    {
        lock (Gate)
        {
            if (_applied) return;
            // TF32 keeps 10 mantissa bits in matmuls and convolutions on Ampere and later: relative errors near 1e-3,
            // the size of the train tolerance itself, and only on some cards. PyTorch leaves it on for cuDNN by
            // default, so turn both off explicitly; likewise fp16 partial sums in fp32 matmuls.
            torch.backends.cuda.matmul.allow_tf32 = false;
            torch.backends.cudnn.allow_tf32 = false;
            torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = false;
            // Not available in TorchSharp 0.107: torch.use_deterministic_algorithms and
            // are_deterministic_algorithms_enabled are [Obsolete("not implemented")], and cudnn.deterministic is not
            // exposed. cuDNN may therefore pick a convolution backward that sums with atomics, so a CNN step on CUDA
            // can differ in the last bits from run to run. cudnn.benchmark stays off (libtorch's default), so the
            // algorithm choice itself does not vary between runs. Those differences are rounding-sized, orders of
            // magnitude under the tolerances; the CPU path is bit-reproducible at a fixed thread count.
            _applied = true;
        }
    }
}
