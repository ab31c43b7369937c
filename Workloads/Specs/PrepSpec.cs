namespace Huginn.Workloads;

/// <summary>A deterministic data preparation; its output is compared by digest, so it must be bit-exact on any device.</summary>
[GenerateSerializer, Immutable, Alias("huginn.prep-spec")]
public sealed record PrepSpec
{
    /// <summary>q = clamp(round-half-to-even(x / Scale), -127, 127) per feature, as signed bytes.</summary>
    public const string QuantizeInt8 = "quantize-int8";

    [Id(0)] public string Operation { get; init; } = QuantizeInt8;
    [Id(1)] public float Scale { get; init; } = 0.05f;
}
