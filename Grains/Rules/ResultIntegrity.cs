using Huginn.Workloads;

namespace Huginn.Grains.Rules;

/// <summary>
/// What a result must say about itself before anything compares its numbers: the sample count the shard implies
/// (train: steps × batch; infer and prep: the slice), and a loss that means something (train: a finite number, 0 or
/// more, as mse and cross-entropy are; infer and prep report none: NaN). A result that fails is malformed (Slashing):
/// a worker that computed honestly but reported loss 1e30, NaN or −1 samples was paid and reached the client's
/// metrics before this rule.
/// </summary>
public static class ResultIntegrity
{
    /// <summary>The samples a shard's result must report.</summary>
    public static long ExpectedSamples(WorkloadKind kind, ShardPlan shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        // An evaluation shard of a training job counts every validation row it measured (its loss is a training loss: finite, 0 or more).
        return kind == WorkloadKind.Train && !shard.Evaluate ? (long)shard.Steps * shard.BatchSize : shard.SampleCount;
    }

    /// <summary>Why a result's own figures are impossible for its shard; null when they are plausible.</summary>
    public static string? Problem(WorkloadKind kind, long expectedSamples, double loss, long samples)
    {
        if (samples != expectedSamples) return $"reports {samples} samples where the shard has {expectedSamples}";
        if (kind == WorkloadKind.Train)
        {
            if (!double.IsFinite(loss) || loss < 0) return $"reports loss {loss}; a training loss is a finite number, 0 or more";
        }
        else if (!double.IsNaN(loss))
        {
            return $"reports loss {loss}; a {kind.ToString().ToLowerInvariant()} shard has none (NaN)";
        }
        return null;
    }

    /// <summary>
    /// Whether two audited results' losses agree: within the shard's tolerance relative to the larger, the same
    /// tolerance their tensors meet (honest losses differ by float rounding, ~1e-7 relative); both NaN for infer and
    /// prep.
    /// </summary>
    public static bool LossesAgree(double a, double b, double tolerance)
    {
        if (double.IsNaN(a) && double.IsNaN(b)) return true;
        if (!double.IsFinite(a) || !double.IsFinite(b)) return false;
        var scale = Math.Max(Math.Abs(a), Math.Abs(b));
        return Math.Abs(a - b) <= tolerance * scale || scale == 0;
    }
}
