using Huginn.Workloads;

namespace Huginn.Tests.Workloads;

/// <summary>Small valid specs the workload tests start from.</summary>
internal static class ExampleSpecs
{
    public static ModelSpec Mlp(int input = 4, int[]? hidden = null, int output = 2, string loss = ModelSpec.Mse, string activation = ModelSpec.Relu) => new()
    {
        Type = ModelSpec.Mlp,
        InputSize = input,
        HiddenSizes = hidden ?? [8],
        OutputSize = output,
        Loss = loss,
        Activation = activation,
    };

    public static ModelSpec Cnn() => new()
    {
        Type = ModelSpec.Cnn,
        Channels = 1,
        ImageSize = 8,
        ConvChannels = [4, 8],
        KernelSize = 3,
        OutputSize = 10,
        Loss = ModelSpec.CrossEntropy,
    };

    public static ModelSpec Transformer() => new()
    {
        Type = ModelSpec.Transformer,
        VocabSize = 100,
        SequenceLength = 16,
        ModelDim = 32,
        Heads = 4,
        Layers = 2,
        FeedForwardDim = 64,
        OutputSize = 5,
        Loss = ModelSpec.CrossEntropy,
    };

    public static SyntheticDatasetSpec Teacher(long samples = 1000, ulong seed = 7, double noise = 0.1) =>
        new() { Kind = SyntheticDatasetSpec.Teacher, Samples = samples, Seed = seed, Noise = noise };

    public static SyntheticDatasetSpec Blobs(long samples = 1000, ulong seed = 7, double noise = 0.1) =>
        new() { Kind = SyntheticDatasetSpec.Blobs, Samples = samples, Seed = seed, Noise = noise };

    public static JobSpec Train(ModelSpec? model = null, SyntheticDatasetSpec? data = null) => new()
    {
        Kind = WorkloadKind.Train,
        Model = model ?? Mlp(),
        Dataset = new DatasetSpec { Synthetic = data ?? Teacher() },
        Rounds = 3,
        ShardsPerRound = 4,
        LocalSteps = 5,
        BatchSize = 32,
        LearningRate = 0.05f,
        Seed = 11,
    };

    public static JobSpec Infer(ModelSpec? model = null, long samples = 1000, int shards = 4) => new()
    {
        Kind = WorkloadKind.Infer,
        Model = model ?? Mlp(),
        Dataset = new DatasetSpec { Synthetic = Teacher(samples) },
        ShardsPerRound = shards,
        Seed = 11,
    };

    public static JobSpec Prep(ModelSpec? model = null, long samples = 1000, int shards = 4, float scale = 0.05f) => new()
    {
        Kind = WorkloadKind.Prep,
        Model = model ?? Mlp(),
        Dataset = new DatasetSpec { Synthetic = Teacher(samples) },
        ShardsPerRound = shards,
        Seed = 11,
        Prep = new PrepSpec { Operation = PrepSpec.QuantizeInt8, Scale = scale },
    };

    public const string SomeBlobId = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
}
