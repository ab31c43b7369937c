using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Rules;
using Huginn.Workloads;

namespace Huginn.Tests.Pool;

/// <summary>Issue 13, finding 4: a training job that stops after paid rounds leaves its last checkpoint to its client.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Cluster")]
public sealed class StoppedJobResultTests(PoolClusterFixture fixture) : IAsyncLifetime
{
    private readonly SimulatedPool _pool = new(fixture);
    private static readonly PricingOptions PoolPricing = TestPricing();

    private static PricingOptions TestPricing()
    {
        var options = new Huginn.Grains.PoolOptions();
        PoolClusterFixture.ConfigureTestPool(options);
        return options.Pricing;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    [Fact]
    public async Task A_training_job_that_ran_out_of_budget_after_a_round_gives_its_last_checkpoint_and_a_new_job_continues_from_it()
    {
        await _pool.AddDeviceAsync();
        await _pool.AddDeviceAsync();
        var client = await _pool.CreateClientAsync(hu: 10);
        var spec = Specs.TeacherTraining(rounds: 4, shardsPerRound: 2);
        var price = Pricing.ShardPriceMicroHu(JobPlanner.Plan(spec).FlopsPerShard, PoolPricing);
        // New devices are audited: a round of 2 shards takes 4 results. Budget for 6 results: round 1, not round 2.
        var budget = 6 * (price + Pricing.FeeMicroHu(price, PoolPricing));
        var job = await _pool.SubmitAsync(client, spec, maxMicroHu: budget);

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Failed, done.Status);
        var result = await _pool.Grains.GetGrain<IJobGrain>(job.JobId).GetResultAsync();
        Assert.NotNull(result);
        Assert.InRange(result.RoundsCompleted, 1, 3);
        Assert.Equal(result.RoundsCompleted, done.RoundLosses.Length);
        var checkpoint = WeightsFormat.FromBytes(await _pool.ResultBytesAsync(job.JobId));
        Assert.NotEqual(ModelInitializer.Initialize(spec.Model!, spec.Seed), checkpoint);

        var next = await _pool.SubmitAsync(client, spec with { Rounds = 1, WeightsFromJobId = job.JobId });
        Assert.Equal(JobStatus.Completed, (await _pool.WaitUntilFinishedAsync(next.JobId)).Status);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_job_cancelled_before_any_round_completed_has_no_result()
    {
        var client = await _pool.CreateClientAsync(hu: 10);
        await _pool.AddDeviceAsync(Simulation.Behavior.Stalled);
        await _pool.AddDeviceAsync(Simulation.Behavior.Stalled);
        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 2, shardsPerRound: 2));

        await _pool.Grains.GetGrain<IJobGrain>(job.JobId).CancelAsync();

        Assert.Null(await _pool.Grains.GetGrain<IJobGrain>(job.JobId).GetResultAsync());
    }
}
