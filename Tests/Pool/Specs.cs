using Huginn.Workloads;

namespace Huginn.Tests.Pool;

/// <summary>Small, real jobs the simulated devices can compute in milliseconds.</summary>
public static class Specs
{
    public static JobSpec TeacherTraining(int rounds, int shardsPerRound, ulong seed = 7) => new()
    {
        Kind = WorkloadKind.Train,
        Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 8, HiddenSizes = [16], OutputSize = 1 },
        Dataset = new DatasetSpec
        {
            Synthetic = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Teacher, Samples = shardsPerRound * 64L, Seed = seed, Noise = 0.01 },
        },
        Rounds = rounds,
        ShardsPerRound = shardsPerRound,
        LocalSteps = 10,
        BatchSize = 16,
        LearningRate = 0.05f,
        Seed = seed,
    };

    public static JobSpec Inference(int shards, ulong seed = 5) => new()
    {
        Kind = WorkloadKind.Infer,
        Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 8, HiddenSizes = [16], OutputSize = 3 },
        Dataset = new DatasetSpec
        {
            Synthetic = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Blobs, Samples = shards * 32L, Seed = seed },
        },
        ShardsPerRound = shards,
        Seed = seed,
    };

    public static JobSpec Quantize(int shards, ulong seed = 3) => new()
    {
        Kind = WorkloadKind.Prep,
        Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 8, OutputSize = 1 },
        Dataset = new DatasetSpec
        {
            Synthetic = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Teacher, Samples = shards * 50L, Seed = seed },
        },
        ShardsPerRound = shards,
        Prep = new PrepSpec { Operation = PrepSpec.QuantizeInt8, Scale = 0.05f },
        Seed = seed,
    };
}
