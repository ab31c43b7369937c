using Huginn.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Simulation;
using Huginn.Workloads;

namespace Huginn.Tests.Pool;

/// <summary>
/// One test's slice of the shared cluster: its own accounts, devices and jobs under a unique prefix.
/// Disposing takes its devices offline so that the next test starts with an empty pool.
/// </summary>
public sealed class SimulatedPool(PoolClusterFixture fixture) : IAsyncDisposable
{
    private readonly PoolSetup _setup = new(fixture.Client);

    public IClusterClient Grains => fixture.Client;
    public IReadOnlyList<SimulatedDevice> Devices => _setup.Devices;

    public Task<string> CreateClientAsync(decimal hu) => _setup.CreateClientAsync(hu);

    public Task<string> CreateContributorAsync() => _setup.CreateContributorAsync();

    /// <summary>Heartbeats are the test's to send (<see cref="AdvanceClockAsync"/>): the pool clock is the fixture's fake.</summary>
    public Task<SimulatedDevice> AddDeviceAsync(
        Behavior behavior = Behavior.Honest,
        string? owner = null,
        double gflops = 100,
        DeviceKind kind = DeviceKind.Cpu,
        long memoryMb = 16_384,
        long vramMb = 0,
        string[]? runtimes = null,
        int slots = 1) =>
        _setup.AddDeviceAsync(
            PoolSetup.Cpu(slots) with { Kind = kind, Gflops = gflops, MemoryMb = memoryMb, VramMb = vramMb, Runtimes = runtimes ?? ["torch"] },
            behavior, owner);

    public Task<JobView> SubmitAsync(string clientId, JobSpec spec, long? maxMicroHu = null) => _setup.SubmitJobAsync(clientId, spec, maxMicroHu);

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
            foreach (var device in Devices.Where(d => d.Heartbeating))
                await device.Grain.HeartbeatAsync(DeviceHeartbeat.Empty);
            fixture.Clock.Advance(stride);
        }
        foreach (var device in Devices.Where(d => d.Heartbeating))
            await device.Grain.HeartbeatAsync(DeviceHeartbeat.Empty);
    }

    /// <summary>A finished job's result bytes, read from the blob store as the Api streams them to the client.</summary>
    public async Task<byte[]> ResultBytesAsync(string jobId)
    {
        var result = (await Grains.GetGrain<IJobGrain>(jobId).GetResultAsync())!;
        var blobs = Grains.ServiceProvider.GetRequiredService<IBlobStore>();
        var bytes = new List<byte>();
        foreach (var blobId in result.BlobIds) bytes.AddRange((await blobs.ReadAllBytesAsync(blobId))!);
        Assert.Equal(result.Bytes, bytes.Count);
        return bytes.ToArray();
    }

    public async Task<DeviceView> DeviceAsync(SimulatedDevice device) => (await device.Grain.GetAsync())!;

    public Task<AccountView> AccountAsync(string accountId) => Grains.GetGrain<IAccountGrain>(accountId).GetAsync();

    /// <summary>The ledger's central rule: every micro-HU ever minted is held by exactly one account.</summary>
    public async Task AssertLedgerBalancedAsync()
    {
        var audit = await Grains.GetGrain<ILedgerGrain>(ILedgerGrain.Key).AuditAsync();
        Assert.True(audit.Balanced, $"ledger out of balance: minted {audit.MintedMicroHu}, held {audit.HeldMicroHu} over {audit.Accounts} accounts");
    }

    public async ValueTask DisposeAsync() => await _setup.DisconnectAllAsync();
}
