using Huginn.Grains;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Rules;
using Huginn.Simulation;

namespace Huginn.Tests.Pool;

/// <summary>Contributors who try to fail other clients' jobs: the attack replayed, the pool's answer asserted.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Cluster")]
public sealed class HostileDeviceTests(PoolClusterFixture fixture) : IAsyncLifetime
{
    private readonly SimulatedPool _pool = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    /// <summary>
    /// Found by the attack: one contributor's devices claiming 1,000,000 GFLOP/s and many slots answered every
    /// assignment with a release; the victim's job failed in 2.6 s ("failed on 8 leases") while honest devices were
    /// online, and the releasing devices kept reputation 0.9999.
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public async Task Devices_that_give_every_lease_back_cannot_fail_a_job_and_pay_for_it_themselves(int griefers)
    {
        var griefer = await _pool.CreateContributorAsync();
        var attackers = new List<SimulatedDevice>();
        for (var i = 0; i < griefers; i++)
            attackers.Add(await _pool.AddDeviceAsync(Behavior.GiveBack, owner: griefer, gflops: DeviceCapabilities.MaxGflops, slots: 16));
        var honest = new[] { await _pool.AddDeviceAsync(gflops: 100), await _pool.AddDeviceAsync(gflops: 100) };
        var client = await _pool.CreateClientAsync(hu: 10);

        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 2, shardsPerRound: 4));
        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(8, done.Progress.ShardsDone);
        var released = 0;
        foreach (var attacker in attackers)
        {
            var view = await _pool.DeviceAsync(attacker);
            released += view.Record.Released;
            if (view.Record.Released > 0) Assert.True(view.Reputation < 1.0 / (1 + view.Record.Released) + 1e-3, $"reputation {view.Reputation} after {view.Record.Released} releases");
            Assert.Equal(0, (await _pool.AccountAsync(attacker.OwnerAccountId)).EarnedMicroHu);
        }
        Assert.True(released > 0, "no attacker got a lease: the test did not replay the attack");
        // Each shard went to the griefing owner at most twice (PoolOptions.MaxShardFailuresPerOwner): then the owner is excluded from it.
        Assert.All(attackers.SelectMany(a => a.Assignments).GroupBy(a => (a.Shard.Round, a.Shard.Index)), shard => Assert.InRange(shard.Count(), 1, 2));
        Assert.All(honest, d => Assert.NotEmpty(d.Assignments));
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_device_that_gives_back_more_leases_than_the_limit_is_parked_out_of_routing()
    {
        var options = new PoolOptions();
        PoolClusterFixture.ConfigureTestPool(options);
        var griefer = await _pool.CreateContributorAsync();
        var attacker = await _pool.AddDeviceAsync(Behavior.GiveBack, owner: griefer, gflops: 1000);
        await _pool.AddDeviceAsync(gflops: 10);
        await _pool.AddDeviceAsync(gflops: 10);
        var client = await _pool.CreateClientAsync(hu: 10);

        // More shards than the release limit: the fast attacker is offered one after another until it is parked.
        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 1, shardsPerRound: options.MaxReleasesPerWindow + 4));
        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        var view = await _pool.DeviceAsync(attacker);
        Assert.Equal(options.MaxReleasesPerWindow + 1, view.Record.Released);
        Assert.NotNull(view.CoolingDownUntil);
        Assert.Equal(options.MaxReleasesPerWindow + 1, attacker.Assignments.Count);
        await _pool.AssertLedgerBalancedAsync();
    }

    /// <summary>
    /// Found by the attack: a worker computing honestly but reporting loss 1e30 (or −1 samples) passed audit, was paid,
    /// and its number reached the client's metrics.
    /// </summary>
    [Theory]
    [InlineData(Behavior.FakeLoss)]
    [InlineData(Behavior.FakeSamples)]
    public async Task A_device_that_computes_honestly_but_reports_false_figures_is_caught_and_never_reaches_the_metrics(Behavior liar)
    {
        var cheater = await _pool.AddDeviceAsync(liar, gflops: 1000);
        var honest = new[] { await _pool.AddDeviceAsync(gflops: 100), await _pool.AddDeviceAsync(gflops: 100) };
        var client = await _pool.CreateClientAsync(hu: 10);

        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 3, shardsPerRound: 4));
        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.NotEmpty(cheater.Assignments);
        Assert.Contains(cheater.DeviceId, done.DevicesCaught);
        var view = await _pool.DeviceAsync(cheater);
        Assert.True(view.Record.Invalid > 0);
        Assert.Equal(0, view.Record.Verified + view.Record.Unaudited);
        Assert.Equal(0, (await _pool.AccountAsync(cheater.OwnerAccountId)).EarnedMicroHu);
        // Every reported loss is an honest device's: far below the lie, or unmeasured (NaN, null in the API).
        Assert.All(done.RoundLosses, loss => Assert.True(double.IsNaN(loss) || loss < 1e3, $"round loss {loss}"));
        Assert.Contains(done.RoundLosses, double.IsFinite);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task One_owners_farm_takes_part_in_a_job_with_at_most_the_capped_number_of_devices()
    {
        var options = new PoolOptions();
        PoolClusterFixture.ConfigureTestPool(options);
        var farmer = await _pool.CreateContributorAsync();
        var farm = new List<SimulatedDevice>();
        for (var i = 0; i < options.MaxDevicesPerOwnerPerJob + 3; i++) farm.Add(await _pool.AddDeviceAsync(owner: farmer, gflops: 1000));
        var others = new[] { await _pool.AddDeviceAsync(gflops: 10), await _pool.AddDeviceAsync(gflops: 10) };
        var client = await _pool.CreateClientAsync(hu: 10);

        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 2, shardsPerRound: 12));
        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        foreach (var round in new[] { 0, 1 })
        {
            var farmDevices = farm.Count(d => d.Assignments.Any(a => a.JobId == job.JobId && a.Shard.Round == round));
            Assert.InRange(farmDevices, 1, options.MaxDevicesPerOwnerPerJob);
        }
        Assert.All(others, d => Assert.NotEmpty(d.Assignments));
        await _pool.AssertLedgerBalancedAsync();
    }
}
