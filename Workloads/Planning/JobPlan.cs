namespace Huginn.Workloads;

/// <summary>
/// How a job splits into shards, made by <see cref="JobPlanner.Plan"/>. Small and serializable: a job grain keeps
/// it and makes any shard on demand with <see cref="Shard"/> instead of storing rounds × shards plans.
/// </summary>
/// <remarks>
/// Every round splits the dataset the same way: shard s of N samples into S shards covers
/// [s·N/S, (s+1)·N/S) (integer division), so slice sizes differ by at most one. Shard seeds are
/// <c>DeterministicRandom.Derive(job seed, round, index)</c>.
/// </remarks>
[GenerateSerializer, Immutable, Alias("huginn.job-plan")]
public sealed record JobPlan
{
    [Id(0)] public required WorkloadKind Kind { get; init; }
    [Id(1)] public required int Rounds { get; init; }
    [Id(2)] public required int ShardsPerRound { get; init; }
    /// <summary>Samples the training shards split (N): the dataset's rows less any held out for validation.</summary>
    [Id(3)] public required long Samples { get; init; }
    [Id(4)] public required ulong Seed { get; init; }
    /// <summary>SGD steps per train shard; 0 for infer and prep.</summary>
    [Id(5)] public required int Steps { get; init; }
    [Id(6)] public required int BatchSize { get; init; }
    /// <summary>Forward FLOPs of one sample (train, infer); for prep, the FLOPs of preparing one sample.</summary>
    [Id(7)] public required long FlopsPerSample { get; init; }
    /// <summary>Length of the flat weight vector; 0 for prep.</summary>
    [Id(8)] public required long ParameterCount { get; init; }
    [Id(9)] public required ShardRequirement Requirement { get; init; }
    /// <summary>Rows each round's evaluation shard covers (<see cref="JobSpec.Validation"/>); 0 when the job has no validation split.</summary>
    [Id(10)] public long ValidationRows { get; init; }
    /// <summary>The first validation row in its dataset: the training set's row count for a fraction, 0 for a separate dataset.</summary>
    [Id(11)] public long ValidationOffset { get; init; }
    /// <summary>What a device needs for an evaluation shard: the training requirement's runtimes and memory, its own FLOPs.</summary>
    [Id(12)] public ShardRequirement? EvaluationRequirement { get; init; }

    /// <summary>Whether every round is followed by an evaluation shard on its new weights.</summary>
    public bool HasValidation => ValidationRows > 0;

    /// <summary>FLOPs of one evaluation shard: a forward pass over every validation row (0 without a split).</summary>
    public long EvaluationFlops => checked(ValidationRows * FlopsPerSample);

    /// <summary>
    /// The index an evaluation shard has among its round's shards: one past the training shards, so that it is leased,
    /// audited and paid with them but never mistaken for one.
    /// </summary>
    public int EvaluationIndex => ShardsPerRound;

    /// <summary>Shards over all rounds, one evaluation shard per round included.</summary>
    public long TotalShards => (long)Rounds * (ShardsPerRound + (HasValidation ? 1 : 0));

    /// <summary>FLOPs of the largest shard (slices differ by one sample); what <see cref="Requirement"/> carries.</summary>
    public long FlopsPerShard => FlopsFor(LargestSlice);

    /// <summary>Sum of every shard's FLOPs over the job, as a double because large jobs pass 2^63.</summary>
    public double TotalFlops
    {
        get
        {
            var larger = Samples % ShardsPerRound;
            var perRound = (double)larger * FlopsFor(LargestSlice) + (double)(ShardsPerRound - larger) * FlopsFor((int)(Samples / ShardsPerRound));
            return (perRound + EvaluationFlops) * Rounds;
        }
    }

    /// <summary>The plans of the first round's shards.</summary>
    public IReadOnlyList<ShardPlan> FirstRoundShards => Shards(0);

    private int LargestSlice => (int)((Samples + ShardsPerRound - 1) / ShardsPerRound);

    /// <summary>The plan of shard <paramref name="index"/> of round <paramref name="round"/>, both counted from 0.</summary>
    public ShardPlan Shard(int round, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(round, Rounds);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, ShardsPerRound);

        var start = index * Samples / ShardsPerRound;
        var end = (index + 1) * Samples / ShardsPerRound;
        var count = (int)(end - start);
        return new ShardPlan(
            round,
            index,
            start,
            count,
            DeterministicRandom.Derive(Seed, round, index),
            FlopsFor(count),
            Steps,
            BatchSize);
    }

    /// <summary>
    /// The evaluation of the weights <paramref name="round"/> (from 0) ended with: every validation row, no steps, one
    /// forward pass each. Its seed is unused (the rows are all read in order) but derived like any shard's.
    /// </summary>
    public ShardPlan EvaluationShard(int round)
    {
        if (!HasValidation) throw new InvalidOperationException("The job has no validation split.");
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(round, Rounds);
        return new ShardPlan(round, EvaluationIndex, ValidationOffset, checked((int)ValidationRows),
            DeterministicRandom.Derive(Seed, round, EvaluationIndex), EvaluationFlops, 0, BatchSize) { Evaluate = true };
    }

    /// <summary>The plans of every shard of a round.</summary>
    public IReadOnlyList<ShardPlan> Shards(int round)
    {
        var shards = new ShardPlan[ShardsPerRound];
        for (var i = 0; i < shards.Length; i++) shards[i] = Shard(round, i);
        return shards;
    }

    /// <summary>
    /// FLOPs of a shard with a slice of this many samples. train: Steps·BatchSize·3·forward, the backward pass
    /// costing about twice the forward (and independent of the slice, which is only sampled from);
    /// infer: samples·forward; prep: samples·FlopsPerSample.
    /// </summary>
    public long FlopsFor(int sampleCount) => Kind switch
    {
        WorkloadKind.Train => checked((long)Steps * BatchSize * 3 * FlopsPerSample),
        _ => checked(sampleCount * FlopsPerSample),
    };
}
