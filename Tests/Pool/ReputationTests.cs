using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Simulation;
using Huginn.Workloads;

namespace Huginn.Tests.Pool;

/// <summary>Verdicts applied to one device directly, so each consequence is seen on its own.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Cluster")]
public sealed class ReputationTests(PoolClusterFixture fixture) : IAsyncLifetime
{
    private readonly SimulatedPool _pool = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    private static VerdictNotice Notice(Verdict verdict) =>
        new(new ShardRef("job-x", 0, 0, 0), Guid.NewGuid().ToString("N"), verdict);

    private async Task<(SimulatedDevice Device, long Pending)> DeviceWithPendingPayAsync(long amount)
    {
        var device = await _pool.AddDeviceAsync();
        var payer = await _pool.CreateClientAsync(hu: 1);
        var paid = await _pool.Grains.GetGrain<IAccountGrain>(payer).TransferAsync(new Transfer
        {
            TransferId = $"test-pay:{Guid.NewGuid():N}", From = payer, To = device.OwnerAccountId, AmountMicroHu = amount,
            Kind = TransferKind.ShardPayment, DeviceId = device.DeviceId, VestsAt = fixture.Clock.GetUtcNow() + TimeSpan.FromHours(24),
        });
        Assert.Equal(TransferOutcome.Applied, paid);
        return (device, amount);
    }

    [Fact]
    public async Task Invalid_verdict_forfeits_the_devices_pending_pay_to_the_slashed_account()
    {
        var (device, pending) = await DeviceWithPendingPayAsync(700);
        var slashedBefore = (await _pool.AccountAsync(SystemAccounts.Slashed)).HoldingsMicroHu;

        await device.Grain.RecordVerdictAsync(Notice(Verdict.Invalid));

        var account = await _pool.AccountAsync(device.OwnerAccountId);
        Assert.Equal(0, account.PendingMicroHu);
        Assert.Equal(pending, account.Devices[device.DeviceId].ForfeitedMicroHu);
        Assert.Equal(0, account.EarnedMicroHu);
        Assert.Equal(slashedBefore + pending, (await _pool.AccountAsync(SystemAccounts.Slashed)).HoldingsMicroHu);
        var view = await _pool.DeviceAsync(device);
        Assert.Equal(DeviceStatus.Online, view.Status);
        Assert.Equal(1.0, view.AuditRate);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Verified_work_builds_trust_and_lowers_the_audit_rate()
    {
        var device = await _pool.AddDeviceAsync();
        for (var i = 0; i < 8; i++) await device.Grain.RecordVerdictAsync(Notice(Verdict.Verified));

        var view = await _pool.DeviceAsync(device);

        // Test pool: probation of 2 audits, so 8 confirmed audits give 2/8.
        Assert.Equal(0.25, view.AuditRate);
        Assert.Equal(8, view.Record.Verified);
    }

    [Fact]
    public async Task Third_invalid_verdict_bans_the_device_and_its_tokens_stop_working()
    {
        var device = await _pool.AddDeviceAsync();
        await device.Grain.RecordVerdictAsync(Notice(Verdict.Invalid));
        await device.Grain.RecordVerdictAsync(Notice(Verdict.Invalid));
        Assert.Equal(DeviceStatus.Online, (await _pool.DeviceAsync(device)).Status);

        await device.Grain.RecordVerdictAsync(Notice(Verdict.Invalid));

        var view = await _pool.DeviceAsync(device);
        Assert.Equal(DeviceStatus.Banned, view.Status);
        Assert.NotNull(view.BannedAt);
        Assert.Equal(DeviceStatus.Banned, await device.Grain.HeartbeatAsync(DeviceHeartbeat.Empty));
        Assert.Equal(ResultReceipt.NotLeased, await device.Grain.SubmitResultAsync(
            new ShardResult("any-lease", new ResultRef(new string('0', 64), 0, 0, 0))));
    }

    [Fact]
    public async Task The_same_verdict_delivered_twice_counts_once()
    {
        var device = await _pool.AddDeviceAsync();
        var notice = Notice(Verdict.Invalid);

        await device.Grain.RecordVerdictAsync(notice);
        await device.Grain.RecordVerdictAsync(notice);

        Assert.Equal(1, (await _pool.DeviceAsync(device)).Record.Invalid);
    }

    [Fact]
    public async Task Registration_with_an_impossible_profile_is_refused_with_the_field_named()
    {
        var owner = await _pool.CreateContributorAsync();
        var result = await _pool.Grains.GetGrain<IDeviceGrain>($"device-bad-{Guid.NewGuid():N}").RegisterAsync(new DeviceRegistration(owner, "bad",
            new DeviceCapabilities { Kind = DeviceKind.Gpu, Gflops = -1, MemoryMb = 1024, VramMb = 0, Runtimes = [] }));

        Assert.False(result.Succeeded);
        Assert.Equal(["capabilities.gflops", "capabilities.vramMb", "capabilities.runtimes"], result.Errors.Select(e => e.Field));
    }

    [Fact]
    public async Task Another_owner_cannot_take_over_a_registered_device()
    {
        var device = await _pool.AddDeviceAsync();
        var intruder = await _pool.CreateContributorAsync();

        var result = await device.Grain.RegisterAsync(new DeviceRegistration(intruder, "mine now",
            new DeviceCapabilities { Kind = DeviceKind.Cpu, Gflops = 10, MemoryMb = 1024, Runtimes = ["torch"] }));

        Assert.False(result.Succeeded);
        Assert.Equal(device.OwnerAccountId, (await _pool.DeviceAsync(device)).OwnerAccountId);
    }
}
