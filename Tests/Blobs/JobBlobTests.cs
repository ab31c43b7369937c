using Huginn.Blobs;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Simulation;
using Huginn.Tests.Pool;
using Huginn.Workloads;

namespace Huginn.Tests.Blobs;

/// <summary>A job's blobs through the grains: what it stores, and that it holds what it reads and stores.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Cluster")]
public sealed class JobBlobTests(PoolClusterFixture fixture) : IAsyncLifetime
{
    private readonly SimulatedPool _pool = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    [Fact]
    public async Task A_finished_training_job_keeps_its_final_weights_and_lets_go_of_everything_else()
    {
        await _pool.AddDeviceAsync(gflops: 400);
        await _pool.AddDeviceAsync(gflops: 200);
        var client = await _pool.CreateClientAsync(hu: 10);
        var spec = Specs.TeacherTraining(rounds: 3, shardsPerRound: 2, seed: 41);
        // The starting weights, stored as the Api stores an upload but held by nobody: only the job holds them.
        var start = await fixture.Blobs.PutAsync(WeightsFormat.ToBytes(ModelInitializer.Initialize(spec.Model!, 99)));

        var job = await _pool.SubmitAsync(client, spec with { WeightsBlobId = start.BlobId });
        var done = await _pool.WaitUntilFinishedAsync(job.JobId);
        Assert.Equal(JobStatus.Completed, done.Status);
        var final = (await _pool.Grains.GetGrain<IJobGrain>(job.JobId).GetResultAsync())!.BlobIds.Single();
        Assert.NotEqual(start.BlobId, final);

        // A day later the collector has taken the job's working blobs (its inputs, round checkpoints, shard results)
        // and left the result: the final weights stay downloadable until the result is let go of.
        var later = DateTimeOffset.UtcNow + TimeSpan.FromDays(1);
        await fixture.Blobs.CollectAsync(later, TimeSpan.FromHours(1));
        Assert.Null(await fixture.Blobs.GetLengthAsync(start.BlobId!));
        Assert.Equal(4L * JobPlanner.Plan(spec).ParameterCount, await fixture.Blobs.GetLengthAsync(final));

        await fixture.Blobs.RemoveHolderAsync(BlobHolders.Result(job.JobId));
        await fixture.Blobs.CollectAsync(later, TimeSpan.FromHours(1));
        Assert.Null(await fixture.Blobs.GetLengthAsync(final));
    }
}
