namespace Huginn.Workloads;

/// <summary>
/// The byte layouts a dataset may have (docs/DATASETS.md). Every value is little-endian; there is no header and
/// nothing between rows. A dataset is one stream of bytes; chunks cut it at fixed offsets, so a row may span two chunks.
/// </summary>
public static class DatasetFormats
{
    /// <summary>Rows of float32: the model's features, then its targets (a class index stored as a float under cross_entropy).</summary>
    public const string F32 = "f32";
    /// <summary>Rows of float32 features only, no targets: input for inference and prep.</summary>
    public const string F32Features = "f32-features";
    /// <summary>A stream of unsigned 16-bit token ids.</summary>
    public const string U16 = "u16";
    /// <summary>A stream of unsigned 32-bit token ids.</summary>
    public const string U32 = "u32";

    public static readonly string[] All = [F32, F32Features, U16, U32];

    public static bool IsKnown(string? format) => format is F32 or F32Features or U16 or U32;

    /// <summary>A stream of token ids rather than rows of floats.</summary>
    public static bool IsTokens(string format) => format is U16 or U32;

    /// <summary>Whether a sample carries its target: f32 rows do, f32-features rows do not; a token sample's target is the next token.</summary>
    public static bool HasTargets(string format) => format is F32 or U16 or U32;

    /// <summary>Bytes of one stored value: a float32 or a token id.</summary>
    public static int ValueBytes(string format) => format == U16 ? 2 : 4;

    /// <summary>A comma-separated list for error messages.</summary>
    public static string Names => string.Join(", ", All.Select(f => $"\"{f}\""));
}
