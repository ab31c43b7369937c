using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Grains.Jobs;
using Huginn.Workloads;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Huginn.Tests.Pool;

/// <summary>
/// What the job grain writes on every batch does not grow with the model: the round's weights, the sum of its
/// deltas and the accepted outputs are blobs, named by id in the state (issue 10: at most 64 KB per write for a
/// 100M-parameter training job).
/// </summary>
public sealed class JobStateSizeTests
{
    private static readonly Serializer Serializer = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(JobState).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    private static JobSpec Training(int[] hidden, int shardsPerRound) => new()
    {
        Kind = WorkloadKind.Train,
        Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 784, HiddenSizes = hidden, OutputSize = 10 },
        Dataset = new DatasetSpec { Synthetic = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Teacher, Samples = shardsPerRound * 256L, Seed = 1 } },
        Rounds = 20,
        ShardsPerRound = shardsPerRound,
        LocalSteps = 100,
        BatchSize = 64,
        LearningRate = 0.05f,
        Seed = 1,
    };

    /// <summary>A job in the middle of a round: every shard leased, half of them audited, most accepted, outboxes pending.</summary>
    private static JobState MidRound(JobSpec spec)
    {
        var state = new JobState
        {
            Exists = true,
            OwnerAccountId = "acct_client",
            Spec = spec,
            Status = JobStatus.Running,
            Rounds = spec.Rounds,
            ShardsPerRound = spec.ShardsPerRound,
            WeightsBlobId = new string('a', 64),
            Current = Round.Start(7, spec.ShardsPerRound),
            RoundLosses = Enumerable.Repeat(0.5, 7).ToList(),
        };
        foreach (var shard in state.Current.Shards.Values)
        {
            for (var device = 0; device < (shard.Index % 2 == 0 ? 2 : 1); device++)
            {
                state.Current.AddLease(shard, new LeaseState
                {
                    LeaseId = Guid.NewGuid().ToString("N"), DeviceId = $"dev_{Guid.NewGuid():N}", OwnerAccountId = $"acct_{Guid.NewGuid():N}",
                    HardwareClass = "gpu-80g", Deadline = DateTimeOffset.UnixEpoch, Status = LeaseStatus.Delivered,
                }, $"k{shard.Index}", auditRate: 1.0, "salt");
            }
            state.RoundResults[shard.Index] = new ResultRef(new string('b', 64), 4L * 107_000_000, 0.5, 256);
            state.TransferOutbox.Add(new Transfer
            {
                TransferId = $"pay:{Guid.NewGuid():N}", From = "escrow:job", To = "acct_contributor", AmountMicroHu = 100,
                Kind = TransferKind.ShardPayment, DeviceId = "dev", JobId = "job", VestsAt = DateTimeOffset.UnixEpoch,
            });
        }
        return state;
    }

    [Fact]
    public void A_100M_parameter_training_job_writes_at_most_64_KB()
    {
        var spec = Training([8192, 8192, 4096], shardsPerRound: 64);
        Assert.True(ModelRegistry.Get(ModelSpec.Mlp).ParameterCount(spec.Model!) > 100_000_000);

        var bytes = Serializer.SerializeToArray(MidRound(spec)).Length;

        Assert.True(bytes <= 64 * 1024, $"the job's state is {bytes} bytes");
    }

    [Fact]
    public void The_job_state_does_not_grow_with_the_model()
    {
        var small = Serializer.SerializeToArray(MidRound(Training([16], shardsPerRound: 16))).Length;
        var large = Serializer.SerializeToArray(MidRound(Training([8192, 8192, 4096], shardsPerRound: 16))).Length;

        // Only the spec's hidden sizes differ: a few bytes, whatever the parameter count (random ids vary a little too).
        Assert.InRange(large - small, -64, 64);
    }
}
