using Huginn.Blobs;
using Huginn.Grains.Interfaces.Jobs;
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
    public async Task Training_job_holds_its_starting_weights_and_stores_each_rounds_weights_as_a_blob_it_holds()
    {
        await _pool.AddDeviceAsync(gflops: 400);
        await _pool.AddDeviceAsync(gflops: 200);
        var client = await _pool.CreateClientAsync(hu: 10);
        var spec = Specs.TeacherTraining(rounds: 3, shardsPerRound: 2, seed: 41);
        // The starting weights, uploaded as a client would: nobody holds them until the job does.
        var start = await fixture.Blobs.PutAsync(WeightsFormat.ToBytes(ModelInitializer.Initialize(spec.Model!, 99)));

        var job = await _pool.SubmitAsync(client, spec with { WeightsBlobId = start.BlobId });
        var done = await _pool.WaitUntilFinishedAsync(job.JobId);
        Assert.Equal(JobStatus.Completed, done.Status);

        // A day later nothing of the job's is collected; once it lets go, exactly its three rounds' weights are
        // (round 0's are the starting weights: the same bytes, the same blob).
        var later = DateTimeOffset.UtcNow + TimeSpan.FromDays(1);
        Assert.Equal(0, await fixture.Blobs.CollectAsync(later, TimeSpan.FromHours(1)));
        Assert.Equal(start.Length, await fixture.Blobs.GetLengthAsync(start.BlobId!));
        await fixture.Blobs.RemoveHolderAsync($"job:{job.JobId}");
        Assert.Equal(3, await fixture.Blobs.CollectAsync(later, TimeSpan.FromHours(1)));
        Assert.Null(await fixture.Blobs.GetLengthAsync(start.BlobId!));
    }
}
