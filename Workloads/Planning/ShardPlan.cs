namespace Huginn.Workloads;

/// <summary>
/// One shard of a job: round and index (both from 0), its slice [SampleOffset, SampleOffset + SampleCount) of the
/// dataset, its seed (mini-batches), the FLOPs it is priced at, and for train the SGD steps and batch size.
/// Made by <see cref="JobPlan.Shard"/>; everything a device needs besides the job spec and the round's weights.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.shard-plan")]
public sealed record ShardPlan(
    [property: Id(0)] int Round,
    [property: Id(1)] int Index,
    [property: Id(2)] long SampleOffset,
    [property: Id(3)] int SampleCount,
    [property: Id(4)] ulong Seed,
    [property: Id(5)] long Flops,
    [property: Id(6)] int Steps,
    [property: Id(7)] int BatchSize)
{
    /// <summary>An empty plan, for object-initializer syntax.</summary>
    public ShardPlan() : this(0, 0, 0, 0, 0, 0, 0, 0)
    {
    }

    /// <summary>
    /// An evaluation shard (<see cref="JobPlan.EvaluationShard"/>): the device measures the given weights on the
    /// validation rows [SampleOffset, SampleOffset + SampleCount) of <see cref="ShardData.DatasetOf"/> and returns
    /// <see cref="EvaluationMetrics"/> as two values. Absent on the wire (false) for every other shard.
    /// </summary>
    [Id(8)]
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool Evaluate { get; init; }
}
