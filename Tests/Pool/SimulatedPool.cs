using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Workloads;

namespace Huginn.Tests.Pool;

/// <summary>
/// One test's slice of the shared cluster: its own accounts, devices and jobs under a unique prefix.
/// Disposing takes its devices offline so that the next test starts with an empty pool.
/// </summary>
public sealed class SimulatedPool(PoolClusterFixture fixture) : IAsyncDisposable
{
    private readonly string _prefix = Guid.NewGuid().ToString("N")[..8];
    private readonly List<SimulatedDevice> _devices = [];
    private int _sequence;

    public IClusterClient Grains => fixture.Client;
    public IReadOnlyList<SimulatedDevice> Devices => _devices;

    private string NextId(string kind) => $"{kind}-{_prefix}-{Interlocked.Increment(ref _sequence)}";

    public async Task<string> CreateClientAsync(decimal hu)
    {
        var accountId = NextId("client");
        await Grains.GetGrain<IAccountGrain>(accountId).OpenAsync(AccountKind.Client);
        var minted = await Grains.GetGrain<IAccountGrain>(SystemAccounts.Mint).TransferAsync(new Transfer
        {
            TransferId = $"mint:{accountId}",
            From = SystemAccounts.Mint,
            To = accountId,
            AmountMicroHu = MicroHu.FromHu(hu),
            Kind = TransferKind.Mint,
        });
        Assert.Equal(TransferOutcome.Applied, minted);
        return accountId;
    }

    public async Task<string> CreateContributorAsync()
    {
        var accountId = NextId("contributor");
        await Grains.GetGrain<IAccountGrain>(accountId).OpenAsync(AccountKind.Contributor);
        return accountId;
    }

    public async Task<SimulatedDevice> AddDeviceAsync(
        Behavior behavior = Behavior.Honest,
        string? owner = null,
        double gflops = 100,
        DeviceKind kind = DeviceKind.Cpu,
        long memoryMb = 16_384,
        long vramMb = 0,
        string[]? runtimes = null,
        int slots = 1)
    {
        owner ??= await CreateContributorAsync();
        var device = new SimulatedDevice(Grains, NextId("device"), owner) { Behavior = behavior };
        var registered = await device.Grain.RegisterAsync(new DeviceRegistration(owner, device.DeviceId, new DeviceCapabilities
        {
            Kind = kind,
            Gflops = gflops,
            MemoryMb = memoryMb,
            VramMb = vramMb,
            Runtimes = runtimes ?? ["torch"],
            Slots = slots,
            CpuCores = 4,
        }));
        Assert.True(registered.Succeeded, string.Join("; ", registered.Errors));
        await device.ConnectAsync();
        _devices.Add(device);
        return device;
    }

    public async Task<JobView> SubmitAsync(string clientId, JobSpec spec, long? maxMicroHu = null)
    {
        var result = await Grains.GetGrain<IJobGrain>(NextId("job")).SubmitAsync(new JobSubmission(clientId, spec, maxMicroHu));
        Assert.True(result.Succeeded, $"{result.Refusal}: {string.Join("; ", result.Errors)}");
        return result.Job!;
    }

    public Task<JobView> WaitForJobAsync(string jobId, Func<JobView, bool> until, string what, TimeSpan? timeout = null) =>
        Eventually.UntilAsync(async () => (await Grains.GetGrain<IJobGrain>(jobId).GetAsync())!, until, what, timeout);

    public async Task<JobView> WaitUntilFinishedAsync(string jobId) =>
        await WaitForJobAsync(jobId, j => j.IsFinished, $"job {jobId} finishing", TimeSpan.FromSeconds(60));

    /// <summary>
    /// Lets pool time pass until the job finishes, as in a pool that keeps running: a device that stalls after
    /// taking a shard may take another one once its first lease expired, and that lease expires in turn.
    /// Bounded: at most <paramref name="maxAdvances"/> advances of <paramref name="each"/>.
    /// </summary>
    public async Task<JobView> AdvanceUntilFinishedAsync(string jobId, TimeSpan each, int maxAdvances = 8)
    {
        for (var i = 0; i < maxAdvances; i++)
        {
            await AdvanceClockAsync(each, step: TimeSpan.FromSeconds(10));
            var job = await WaitForJobAsync(jobId, j => j.IsFinished || j.Progress.ShardsDone == j.Progress.ShardsTotal, "", TimeSpan.FromSeconds(3))
                .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null, TaskScheduler.Default);
            if (job is not null) return await WaitUntilFinishedAsync(jobId);
        }
        return await WaitUntilFinishedAsync(jobId);
    }

    /// <summary>Moves the pool clock in steps, heartbeating every device that still does, as real devices would.</summary>
    public async Task AdvanceClockAsync(TimeSpan by, TimeSpan? step = null)
    {
        var stride = step ?? TimeSpan.FromSeconds(5);
        for (var moved = TimeSpan.Zero; moved < by; moved += stride)
        {
            foreach (var device in _devices.Where(d => d.Heartbeating))
                await device.Grain.HeartbeatAsync(DeviceHeartbeat.Empty);
            fixture.Clock.Advance(stride);
        }
        foreach (var device in _devices.Where(d => d.Heartbeating))
            await device.Grain.HeartbeatAsync(DeviceHeartbeat.Empty);
    }

    public async Task<DeviceView> DeviceAsync(SimulatedDevice device) => (await device.Grain.GetAsync())!;

    public Task<AccountView> AccountAsync(string accountId) => Grains.GetGrain<IAccountGrain>(accountId).GetAsync();

    /// <summary>The ledger's central rule: every micro-HU ever minted is held by exactly one account.</summary>
    public async Task AssertLedgerBalancedAsync()
    {
        var audit = await Grains.GetGrain<ILedgerGrain>(ILedgerGrain.Key).AuditAsync();
        Assert.True(audit.Balanced, $"ledger out of balance: minted {audit.MintedMicroHu}, held {audit.HeldMicroHu} over {audit.Accounts} accounts");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var device in _devices) await device.DisconnectAsync();
    }
}
