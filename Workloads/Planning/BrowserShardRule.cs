namespace Huginn.Workloads;

/// <summary>
/// The browser rule: which shards a browser tab runs. Light ones only: a tab's memory is capped and shared with the
/// page, and a tab may close at any moment, so a shard there must be small and quick. The planner asks
/// <see cref="Admits"/> of a job (memory, precision, a model the browser executor runs, web/src/executor); routing asks
/// <see cref="FitsTime"/> of each browser with the shard's expected time at that browser's measured speed.
/// </summary>
public static class BrowserShardRule
{
    /// <summary>A browser gets no shard that needs more than this (the planner's estimate, overhead included).</summary>
    public const long MaxMemoryMb = 256;

    /// <summary>A browser gets no shard expected to take longer than this on it (Routing.ExpectedSeconds).</summary>
    public static readonly TimeSpan MaxExpectedTime = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Models whose train and infer shards the browser executor runs with the TorchSharp executor's conventions and
    /// within the audit tolerances (web/test). The transformer runs there too but waits for its browser tolerances.
    /// </summary>
    public static readonly string[] TrainedModels = [ModelSpec.Mlp, ModelSpec.Cnn];

    /// <summary>
    /// Whether a job's shards may go to browsers: fp32 (the browser computes nothing else), at most
    /// <see cref="MaxMemoryMb"/> per shard, and prep of any model or train/infer of one of <see cref="TrainedModels"/>.
    /// </summary>
    public static bool Admits(JobSpec spec, long shardMemoryMb)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (NumericPrecision.IsBf16(spec) || shardMemoryMb > MaxMemoryMb) return false;
        return spec.Kind == WorkloadKind.Prep
            || (spec.Model is { } model && Array.IndexOf(TrainedModels, model.Type) >= 0);
    }

    /// <summary>Whether a browser expected to take <paramref name="expectedSeconds"/> on a shard may have it.</summary>
    public static bool FitsTime(double expectedSeconds) => expectedSeconds <= MaxExpectedTime.TotalSeconds;

    /// <summary>The time bound for a device of this kind: only browsers have one.</summary>
    public static bool FitsTime(DeviceKind kind, double expectedSeconds) => kind != DeviceKind.Browser || FitsTime(expectedSeconds);
}
