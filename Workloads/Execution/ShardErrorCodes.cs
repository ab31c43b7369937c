namespace Huginn.Workloads;

/// <summary>
/// Why a worker gave a shard back: a closed list, documented in docs/PROTOCOL.md ("Error codes"). A code is
/// deterministic when it depends only on the job's spec and inputs (its data, its starting weights), never on the
/// device: every honest device would fail the shard the same way, so two owners reporting it is enough to fail the
/// job (Grains/Rules/DeterministicFailure). A code that depends on the device sends the shard elsewhere.
/// </summary>
public static class ShardErrorCodes
{
    /// <summary>The data does not fit the spec: a label outside the model's classes, a row of the wrong size, a token id outside the vocabulary, fewer samples than the shard covers.</summary>
    public const string InvalidData = "invalid_data";
    /// <summary>The starting weights do not fit the model (another parameter count).</summary>
    public const string InvalidWeights = "invalid_weights";
    /// <summary>Training diverged: the loss or an output is NaN or infinite with the spec's learning rate and precision.</summary>
    public const string Nonfinite = "nonfinite";
    /// <summary>This worker cannot run the model, kind or precision (another worker's build may).</summary>
    public const string UnsupportedModel = "unsupported_model";
    /// <summary>The device ran out of memory.</summary>
    public const string OutOfMemory = "out_of_memory";
    /// <summary>The worker could not fetch the shard's inputs (dataset, weights) from the blob store, or they arrived corrupted.</summary>
    public const string DataUnavailable = "data_unavailable";
    /// <summary>The worker is stopping and gives back what it has not finished.</summary>
    public const string ShuttingDown = "shutting_down";
    /// <summary>Anything else, and any code the server does not know.</summary>
    public const string Internal = "internal";

    /// <summary>Every code, and whether it is deterministic (depends only on spec and inputs).</summary>
    public static readonly IReadOnlyDictionary<string, bool> All = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        [InvalidData] = true,
        [InvalidWeights] = true,
        [Nonfinite] = true,
        [UnsupportedModel] = false,
        [OutOfMemory] = false,
        [DataUnavailable] = false,
        [ShuttingDown] = false,
        [Internal] = false,
    };

    /// <summary>The code as the server keeps it: one of <see cref="All"/>, anything else (or none) is <see cref="Internal"/>.</summary>
    public static string Normalize(string? code) => code is not null && All.ContainsKey(code) ? code : Internal;

    public static bool IsDeterministic(string? code) => code is not null && All.TryGetValue(code, out var deterministic) && deterministic;
}
