namespace Huginn.Workloads;

/// <summary>
/// A model from the registry (<see cref="ModelRegistry"/>) and its sizes. Which fields matter depends on
/// <see cref="Type"/>; the others are ignored.
/// </summary>
/// <remarks>
/// <see cref="OutputSize"/> is the size of the last layer for every type: regression outputs under "mse",
/// classes under "cross_entropy". <see cref="InputSize"/> is the feature count of an mlp; a cnn and a
/// transformer derive theirs (Channels·ImageSize² pixels, SequenceLength token ids) and accept InputSize only
/// when it is 0 or equal to that. <see cref="HiddenSizes"/> are the hidden layers of an mlp and of a cnn's head.
/// <see cref="Activation"/> is every hidden nonlinearity: mlp layers, cnn convolutions and head, transformer FFN.
/// </remarks>
[GenerateSerializer, Immutable, Alias("huginn.model-spec")]
public sealed record ModelSpec
{
    public const string Mlp = "mlp";
    public const string Cnn = "cnn";
    public const string Transformer = "transformer";
    public const string Relu = "relu";
    public const string Tanh = "tanh";
    public const string Mse = "mse";
    public const string CrossEntropy = "cross_entropy";

    /// <summary>"mlp", "cnn" or "transformer".</summary>
    [Id(0)] public required string Type { get; init; }
    [Id(1)] public int InputSize { get; init; }
    [Id(2)] public int[] HiddenSizes { get; init; } = [];
    [Id(3)] public int OutputSize { get; init; }
    /// <summary>"relu" (default) or "tanh".</summary>
    [Id(4)] public string Activation { get; init; } = Relu;
    /// <summary>"mse" (default) or "cross_entropy" (targets are class indices stored as floats).</summary>
    [Id(5)] public string Loss { get; init; } = Mse;

    /// <summary>cnn: input channels.</summary>
    [Id(6)] public int Channels { get; init; }
    /// <summary>cnn: side of the square input image.</summary>
    [Id(7)] public int ImageSize { get; init; }
    /// <summary>cnn: output channels of each convolution (each followed by the activation and a 2x2 max-pool).</summary>
    [Id(8)] public int[] ConvChannels { get; init; } = [];
    /// <summary>cnn: odd kernel side; convolutions pad to keep the image size.</summary>
    [Id(9)] public int KernelSize { get; init; } = 3;

    /// <summary>transformer: number of token ids.</summary>
    [Id(10)] public int VocabSize { get; init; }
    [Id(11)] public int SequenceLength { get; init; }
    [Id(12)] public int ModelDim { get; init; }
    [Id(13)] public int Heads { get; init; }
    [Id(14)] public int Layers { get; init; }
    [Id(15)] public int FeedForwardDim { get; init; }
}
