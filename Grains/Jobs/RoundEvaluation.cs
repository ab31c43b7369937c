using Huginn.Blobs;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;

namespace Huginn.Grains.Jobs;

/// <summary>
/// Each round's evaluation shard (issue 13, item 6): the weights round r ended with are measured on the validation rows
/// by one more shard of round r + 1 (index <see cref="JobPlan.EvaluationIndex"/>), leased, audited and paid with that
/// round's training shards but never averaged; the last round's weights by a round of its own (number = rounds) that
/// holds only the evaluation. So training never waits for an evaluation, a round completes once its evaluation of the
/// previous weights is decided, and the job completes once the last one is.
/// </summary>
public static class RoundEvaluation
{
    /// <summary>Whether the shard is its round's evaluation shard.</summary>
    public static bool IsEvaluation(JobPlan plan, ShardState shard) => IsEvaluation(plan, shard.Index);

    public static bool IsEvaluation(JobPlan plan, int index) => plan.HasValidation && index == plan.EvaluationIndex;

    /// <summary>The plan of shard <paramref name="index"/> of round <paramref name="round"/>; an evaluation shard measures the previous round's weights.</summary>
    public static ShardPlan PlanOf(JobPlan plan, int round, int index) =>
        IsEvaluation(plan, index) ? plan.EvaluationShard(round - 1) : plan.Shard(round, index);

    /// <summary>The round evaluated by the evaluation shard of round <paramref name="round"/> (from 0).</summary>
    public static int EvaluatedRound(int round) => round - 1;

    /// <summary>
    /// Round <paramref name="round"/>: its training shards (none for round = rounds, the last evaluation's own), and from
    /// round 1 on, when the job has a validation split, the evaluation of the weights the previous round ended with.
    /// </summary>
    public static Round Start(JobPlan plan, int round)
    {
        var started = round < plan.Rounds ? Round.Start(round, plan.ShardsPerRound) : new Round { Number = round };
        if (plan.HasValidation && round >= 1) started.Shards[plan.EvaluationIndex] = new ShardState { Index = plan.EvaluationIndex };
        return started;
    }

    /// <summary>Rounds a job runs: the training rounds, and a last one for the final evaluation when it has a split.</summary>
    public static int LastRound(JobPlan plan) => plan.HasValidation ? plan.Rounds : plan.Rounds - 1;

    /// <summary>
    /// The metrics an accepted evaluation result holds: its two float32 values (8 bytes, read from the blob store: no
    /// tensor math on the grain), counted over the plan's validation rows, never the device's sample count.
    /// </summary>
    public static async Task<EvaluationMetrics> ReadAsync(IBlobStore blobs, ResultRef result, JobPlan plan, ModelSpec model)
    {
        await using var stream = await blobs.OpenReadAsync(result.BlobId) ?? throw new InvalidDataException($"the evaluation result {result.BlobId} is not in the blob store");
        var bytes = new byte[2 * sizeof(float)];
        await stream.ReadExactlyAsync(bytes);
        var values = new float[2];
        for (var i = 0; i < values.Length; i++) values[i] = BitConverter.ToSingle(bytes, i * sizeof(float));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("results are little-endian float32");
        return EvaluationMetrics.FromValues(values, plan.ValidationRows, model);
    }

    /// <summary>Per round: the validation loss and accuracy, NaN where not evaluated (yet), failed, or (accuracy) an mse model.</summary>
    public static void Record(List<double> losses, List<double> accuracies, int rounds, int round, EvaluationMetrics metrics)
    {
        while (losses.Count < rounds) losses.Add(double.NaN);
        while (accuracies.Count < rounds) accuracies.Add(double.NaN);
        // A device's float32 arithmetic may land a hair outside the possible range (an accuracy of 1.000001): the
        // audit accepted it as within tolerance, and the client reads a loss of at least 0 and a share of rows.
        losses[round] = Math.Max(0, metrics.MeanLoss);
        accuracies[round] = metrics.Accuracy is { } accuracy ? Math.Clamp(accuracy, 0, 1) : double.NaN;
    }
}
