using Huginn.Blobs;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Jobs;
using Huginn.Grains.Rules;
using Huginn.Workloads;

namespace Huginn.Tests.Pool;

/// <summary>Issue 13, item 3: every completed round's weights stay downloadable and can seed another job.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Cluster")]
public sealed class CheckpointTests(PoolClusterFixture fixture) : IAsyncLifetime
{
    private readonly SimulatedPool _pool = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    [Fact]
    public async Task Every_round_leaves_a_checkpoint_that_stays_held_with_the_result_and_seeds_another_job()
    {
        await _pool.AddDeviceAsync();
        await _pool.AddDeviceAsync();
        var client = await _pool.CreateClientAsync(hu: 10);
        var spec = Specs.TeacherTraining(rounds: 3, shardsPerRound: 2, seed: 43);
        var job = await _pool.SubmitAsync(client, spec);
        Assert.Equal(JobStatus.Completed, (await _pool.WaitUntilFinishedAsync(job.JobId)).Status);
        var grain = _pool.Grains.GetGrain<IJobGrain>(job.JobId);

        var checkpoints = await grain.GetCheckpointsAsync();

        Assert.Equal([1, 2, 3], checkpoints.Select(c => c.Round));
        Assert.Equal(3, checkpoints.Select(c => c.BlobId).Distinct().Count());
        Assert.Equal((await grain.GetResultAsync())!.BlobIds.Single(), checkpoints[^1].BlobId);
        var bytes = 4L * JobPlanner.Plan(spec).ParameterCount;
        foreach (var checkpoint in checkpoints)
        {
            Assert.Equal(bytes, checkpoint.Bytes);
            Assert.True(await fixture.Blobs.IsHeldByAsync(checkpoint.BlobId, BlobHolders.Result(job.JobId)), $"round {checkpoint.Round}'s checkpoint is not held as a result");
        }

        // A round's checkpoint seeds another job of the same owner; a round the job never completed is refused by name.
        var fromRound2 = spec with { Rounds = 1, Weights = new WeightsSpec { FromJobId = job.JobId, Round = 2 } };
        var (weights, errors) = await JobInputs.LoadAsync(_pool.Grains, fixture.Blobs, fromRound2, client);
        Assert.Empty(errors);
        Assert.Equal(checkpoints[1].BlobId, weights);
        var (_, tooFar) = await JobInputs.LoadAsync(_pool.Grains, fixture.Blobs, fromRound2 with { Weights = fromRound2.Weights! with { Round = 4 } }, client);
        Assert.Equal([new SpecError("weights.round", "the source job has checkpoints of rounds 1 to 3")], tooFar);
        var stranger = await _pool.CreateClientAsync(hu: 1);
        var (_, notYours) = await JobInputs.LoadAsync(_pool.Grains, fixture.Blobs, fromRound2, stranger);
        Assert.Equal([new SpecError("weights.fromJobId", "no job of yours with this id")], notYours);
        var next = await _pool.SubmitAsync(client, fromRound2);
        Assert.Equal(JobStatus.Completed, (await _pool.WaitUntilFinishedAsync(next.JobId)).Status);

        // The collector leaves them while the result is held, and takes them once it is let go of.
        var later = DateTimeOffset.UtcNow + TimeSpan.FromDays(1);
        await fixture.Blobs.CollectAsync(later, TimeSpan.FromHours(1));
        foreach (var checkpoint in checkpoints) Assert.Equal(bytes, await fixture.Blobs.GetLengthAsync(checkpoint.BlobId));
        await fixture.Blobs.RemoveHolderAsync(BlobHolders.Result(job.JobId));
        await fixture.Blobs.RemoveHolderAsync(BlobHolders.Result(next.JobId));
        await fixture.Blobs.CollectAsync(later, TimeSpan.FromHours(1));
        foreach (var checkpoint in checkpoints) Assert.Null(await fixture.Blobs.GetLengthAsync(checkpoint.BlobId));
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_budget_stopped_job_lists_the_checkpoints_of_its_completed_rounds_and_its_last_one_is_its_result()
    {
        await _pool.AddDeviceAsync();
        await _pool.AddDeviceAsync();
        var client = await _pool.CreateClientAsync(hu: 10);
        var spec = Specs.TeacherTraining(rounds: 4, shardsPerRound: 2, seed: 44);
        var options = new Huginn.Grains.PoolOptions();
        PoolClusterFixture.ConfigureTestPool(options);
        var price = Pricing.ShardPriceMicroHu(JobPlanner.Plan(spec).FlopsPerShard, options.Pricing);
        // New devices are audited: a round of 2 shards takes 4 results. Budget for 6 results: round 1, not round 2.
        var job = await _pool.SubmitAsync(client, spec, maxMicroHu: 6 * (price + Pricing.FeeMicroHu(price, options.Pricing)));
        var done = await _pool.WaitUntilFinishedAsync(job.JobId);
        Assert.Equal(JobStatus.Failed, done.Status);
        var grain = _pool.Grains.GetGrain<IJobGrain>(job.JobId);

        var checkpoints = await grain.GetCheckpointsAsync();
        var result = (await grain.GetResultAsync())!;

        Assert.Equal(Enumerable.Range(1, result.RoundsCompleted), checkpoints.Select(c => c.Round));
        Assert.Equal(result.BlobIds.Single(), checkpoints[^1].BlobId);
        var (weights, errors) = await JobInputs.LoadAsync(_pool.Grains, fixture.Blobs, spec with { Weights = new WeightsSpec { FromJobId = job.JobId } }, client);
        Assert.Empty(errors);
        Assert.Equal(checkpoints[^1].BlobId, weights);
    }
}
