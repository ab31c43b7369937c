using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Rules;
using Huginn.Simulation;
using Huginn.Workloads;

namespace Huginn.Tests.Pool;

/// <summary>
/// Issue 13, finding 5: a label 9 with outputSize 9 failed a job as "failed on 8 leases … no device could run it" while
/// the worker knew why. Devices of two owners giving a shard back with the same deterministic code now fail the job at
/// once with that code and the worker's words; one owner's devices cannot.
/// </summary>
[Collection(PoolCollection.Name), Trait("Category", "Cluster")]
public sealed class FailFastTests(PoolClusterFixture fixture) : IAsyncLifetime
{
    private readonly SimulatedPool _pool = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    [Fact]
    public async Task A_shard_two_owners_fail_the_same_deterministic_way_fails_the_job_at_once_with_the_workers_words()
    {
        var devices = new[] { await _pool.AddDeviceAsync(Behavior.ClaimsInvalidData), await _pool.AddDeviceAsync(Behavior.ClaimsInvalidData) };
        var client = await _pool.CreateClientAsync(hu: 10);

        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 2, shardsPerRound: 2));
        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Failed, done.Status);
        Assert.StartsWith($"{ShardErrorCodes.InvalidData}: shard ", done.FailureReason);
        Assert.Contains("devices of 2 contributors", done.FailureReason);
        Assert.Contains($"\"{SimulatedDevice.SimulatedInvalidData}\"", done.FailureReason);
        Assert.DoesNotContain("no device could run it", done.FailureReason);
        // At once: each device gave back at most the two shards of the first round, not lease after lease.
        Assert.InRange(devices.Sum(d => d.Assignments.Count), 2, 4);
        Assert.Equal(0, done.SpentMicroHu);
        Assert.Equal(done.EscrowMicroHu, done.RefundedMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task One_owners_devices_claiming_bad_data_cannot_fail_someone_elses_job()
    {
        var griefer = await _pool.CreateContributorAsync();
        var liars = new List<SimulatedDevice>();
        for (var i = 0; i < 4; i++) liars.Add(await _pool.AddDeviceAsync(Behavior.ClaimsInvalidData, owner: griefer, gflops: 1000, slots: 4));
        await _pool.AddDeviceAsync(gflops: 10);
        await _pool.AddDeviceAsync(gflops: 10);
        var client = await _pool.CreateClientAsync(hu: 10);

        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 2, shardsPerRound: 4));
        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.True(liars.Sum(d => d.Assignments.Count) > 0, "no liar got a lease: the test did not replay the attack");
        Assert.Equal(DeterministicFailure.OwnersToConclude, 2);
        await _pool.AssertLedgerBalancedAsync();
    }
}
