namespace Huginn.Workloads;

/// <summary>What a client asks the pool to run. <see cref="SpecValidator"/> says whether it can run.</summary>
/// <remarks>
/// train: <see cref="Rounds"/> rounds of federated averaging; in each, <see cref="ShardsPerRound"/> shards
/// each run <see cref="LocalSteps"/> SGD steps of <see cref="BatchSize"/> samples on their slice of the dataset.
/// infer: one round; each shard runs the model over its slice. prep: one round; each shard applies
/// <see cref="Prep"/> to its slice. prep also needs <see cref="Model"/>: it gives the shape of the rows.
/// </remarks>
[GenerateSerializer, Immutable, Alias("huginn.job-spec")]
public sealed record JobSpec
{
    [Id(0)] public WorkloadKind Kind { get; init; }
    [Id(1)] public ModelSpec? Model { get; init; }
    [Id(2)] public DatasetSpec Dataset { get; init; } = new();
    [Id(3)] public int Rounds { get; init; } = 1;
    [Id(4)] public int ShardsPerRound { get; init; } = 1;
    [Id(5)] public int LocalSteps { get; init; } = 1;
    [Id(6)] public int BatchSize { get; init; } = 32;
    [Id(7)] public float LearningRate { get; init; } = 0.05f;
    /// <summary>Seeds the initial weights (<see cref="ModelInitializer"/>) and every shard's seed.</summary>
    [Id(8)] public ulong Seed { get; init; }
    [Id(9)] public PrepSpec? Prep { get; init; }
    /// <summary>
    /// Starting weights (train) or the trained weights (infer) as a blob in <see cref="WeightsFormat"/>; when
    /// absent the weights are <c>ModelInitializer.Initialize(Model, Seed)</c>.
    /// </summary>
    [Id(10)] public string? WeightsBlobId { get; init; }

    /// <summary>
    /// Infer (or continue training) from the final weights of an earlier completed training job of the same
    /// owner, with the same model. Exclusive with <see cref="WeightsBlobId"/>.
    /// </summary>
    [Id(11)] public string? WeightsFromJobId { get; init; }

    /// <summary>
    /// "fp32" (default) or "bf16": see <see cref="NumericPrecision"/>. bf16 runs on GPUs only and is audited on the
    /// primary's own hardware class.
    /// </summary>
    [Id(12)] public string Precision { get; init; } = NumericPrecision.Fp32;

    /// <summary>
    /// Where the weights come from (safetensors, f32, an earlier job or one of its round checkpoints): see
    /// <see cref="WeightsSpec"/>. Exclusive with <see cref="WeightsBlobId"/> and <see cref="WeightsFromJobId"/>.
    /// </summary>
    [Id(20)] public WeightsSpec? Weights { get; init; }

    /// <summary>
    /// Train only: rows held out of training (a fraction of the dataset) or a separate dataset, evaluated on each
    /// round's new weights by an evaluation shard (<see cref="ValidationSpec"/>, <see cref="ShardEvaluation"/>).
    /// </summary>
    [Id(21)] public ValidationSpec? Validation { get; init; }
}
