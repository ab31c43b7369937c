namespace Huginn.Workloads;

/// <summary>
/// How a model's samples lie in a dataset of a given format: which bytes sample i takes, how many samples the
/// dataset holds, and what a row is in words (for error messages that say what was expected).
/// </summary>
/// <remarks>
/// f32 and f32-features: sample i is row i of <see cref="RowBytes"/> bytes. u16 and u32 (a transformer): sample i
/// is the <see cref="SequenceLength"/> tokens from token i·S, and, when targets are read, its target is the token that
/// follows them (token i·S + S, the first token of the next sample): next-token prediction over consecutive,
/// non-overlapping windows. Reading targets needs one token past the window, so a stream of N tokens holds
/// ⌊(N − 1) / S⌋ samples with targets and ⌊N / S⌋ without.
/// </remarks>
public sealed record DatasetLayout(string Format, int FeaturesPerSample, int TargetsPerSample, bool ReadsTargets)
{
    /// <summary>The layout of <paramref name="format"/> for model <paramref name="m"/> (assumed valid).</summary>
    /// <param name="readTargets">Whether the job reads targets: training does; inference and prep need none.</param>
    public static DatasetLayout For(string format, ModelSpec m, bool readTargets)
    {
        var definition = ModelRegistry.Get(m.Type);
        var features = definition.FeaturesPerSample(m);
        var targets = definition.TargetsPerSample(m);
        return format switch
        {
            DatasetFormats.F32 => new DatasetLayout(format, features, targets, readTargets),
            DatasetFormats.F32Features => new DatasetLayout(format, features, targets, false),
            _ => new DatasetLayout(format, features, targets, readTargets),
        };
    }

    public bool IsTokens => DatasetFormats.IsTokens(Format);
    public int ValueBytes => DatasetFormats.ValueBytes(Format);

    /// <summary>Tokens per sample (a transformer's sequence length); only for token formats.</summary>
    public int SequenceLength => FeaturesPerSample;

    /// <summary>Values per stored row of an f32 format: features, plus targets for "f32".</summary>
    public int RowValues => Format == DatasetFormats.F32 ? FeaturesPerSample + TargetsPerSample : FeaturesPerSample;

    /// <summary>Bytes of one stored row (f32 formats) or of one sample's window of tokens (token formats).</summary>
    public long RowBytes => (long)RowValues * ValueBytes;

    /// <summary>The bytes [Start, End) of the dataset that samples [offset, offset + count) are read from.</summary>
    public (long Start, long End) ByteRange(long offset, long count)
    {
        if (!IsTokens) return (offset * RowBytes, (offset + count) * RowBytes);
        var extra = ReadsTargets ? 1 : 0;
        return (offset * SequenceLength * ValueBytes, ((offset + count) * SequenceLength + extra) * ValueBytes);
    }

    /// <summary>Samples in a dataset of <paramref name="totalBytes"/> (assumed whole rows or whole tokens).</summary>
    public long SampleCount(long totalBytes)
    {
        if (!IsTokens) return totalBytes / RowBytes;
        var tokens = totalBytes / ValueBytes;
        return Math.Max(0, (ReadsTargets ? tokens - 1 : tokens) / SequenceLength);
    }

    /// <summary>
    /// What a row is, in floats and bytes: "rows of 785 float32 (784 features + 1 target) = 3140 bytes", or
    /// "rows of 784 float32 (784 features, no targets) = 3136 bytes".
    /// </summary>
    public string Describe() => Format switch
    {
        DatasetFormats.F32 => $"\"f32\" rows of {RowValues} float32 ({FeaturesPerSample} features + {TargetsPerSample} target{(TargetsPerSample == 1 ? "" : "s")}) = {RowBytes} bytes",
        DatasetFormats.F32Features => $"\"f32-features\" rows of {RowValues} float32 ({FeaturesPerSample} features, no targets) = {RowBytes} bytes",
        _ => $"\"{Format}\" token ids of {ValueBytes} bytes, {SequenceLength} per sample" + (ReadsTargets ? " plus the next token as its target" : ""),
    };
}
