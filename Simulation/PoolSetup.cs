using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Workloads;

namespace Huginn.Simulation;

/// <summary>
/// Accounts, devices and jobs of a simulated pool, through the grains as the Api would make them. Every id carries a
/// prefix of its own, so that several tests or runs share one cluster. Setup that fails throws: a run on a pool that
/// was not set up measures nothing.
/// </summary>
public sealed class PoolSetup(IClusterClient client)
{
    private readonly string _prefix = Guid.NewGuid().ToString("N")[..8];
    private readonly List<SimulatedDevice> _devices = [];
    private int _sequence;

    public IClusterClient Grains => client;

    /// <summary>Every device added, in order.</summary>
    public IReadOnlyList<SimulatedDevice> Devices => _devices;

    public string NextId(string kind) => $"{kind}-{_prefix}-{Interlocked.Increment(ref _sequence)}";

    /// <summary>A CPU of 100 GFLOP/s with 16 GB and torch: it can run every job the harnesses submit.</summary>
    public static DeviceCapabilities Cpu(int slots = 1) => new()
    {
        Kind = DeviceKind.Cpu,
        Gflops = 100,
        MemoryMb = 16_384,
        Runtimes = ["torch"],
        Slots = slots,
        CpuCores = 4,
    };

    /// <summary>A client account holding <paramref name="hu"/> freshly minted HU.</summary>
    public async Task<string> CreateClientAsync(decimal hu)
    {
        var accountId = NextId("client");
        await client.GetGrain<IAccountGrain>(accountId).OpenAsync(AccountKind.Client);
        var minted = await client.GetGrain<IAccountGrain>(SystemAccounts.Mint).TransferAsync(new Transfer
        {
            TransferId = $"mint:{accountId}",
            From = SystemAccounts.Mint,
            To = accountId,
            AmountMicroHu = MicroHu.FromHu(hu),
            Kind = TransferKind.Mint,
        });
        if (minted != TransferOutcome.Applied) throw new InvalidOperationException($"mint for {accountId}: {minted}");
        return accountId;
    }

    public async Task<string> CreateContributorAsync()
    {
        var accountId = NextId("contributor");
        await client.GetGrain<IAccountGrain>(accountId).OpenAsync(AccountKind.Contributor);
        return accountId;
    }

    /// <summary>
    /// Registers a device (under a new contributor unless <paramref name="owner"/> is given) and brings it online:
    /// subscribed to its stream, one heartbeat.
    /// </summary>
    /// <param name="heartbeatEvery">The device heartbeats on its own (system pool clock); null: the harness does it.</param>
    public async Task<SimulatedDevice> AddDeviceAsync(DeviceCapabilities capabilities, Behavior behavior = Behavior.Honest,
        string? owner = null, int honestShards = 0, int seed = 0, bool awaitsVerdicts = false, TimeSpan? heartbeatEvery = null)
    {
        owner ??= await CreateContributorAsync();
        var device = new SimulatedDevice(client, NextId("device"), owner)
        {
            Behavior = behavior,
            HonestShards = honestShards,
            Seed = seed,
            AwaitsVerdicts = awaitsVerdicts,
        };
        await RegisterAsync(device.Grain, new DeviceRegistration(owner, device.DeviceId, capabilities));
        await device.ConnectAsync(heartbeatEvery);
        lock (_devices) _devices.Add(device);
        return device;
    }

    /// <summary><paramref name="count"/> honest devices, each its own owner.</summary>
    public async Task<List<SimulatedDevice>> AddDevicesAsync(int count, DeviceCapabilities capabilities, TimeSpan? heartbeatEvery = null)
    {
        var devices = new List<SimulatedDevice>(count);
        for (var i = 0; i < count; i++) devices.Add(await AddDeviceAsync(capabilities, heartbeatEvery: heartbeatEvery));
        return devices;
    }

    /// <summary>Registers a device that nothing simulates (its owner need not have an account); throws if the pool refuses it.</summary>
    public static async Task RegisterAsync(IDeviceGrain device, DeviceRegistration registration)
    {
        var result = await device.RegisterAsync(registration);
        if (!result.Succeeded) throw new InvalidOperationException($"{device.GetPrimaryKeyString()}: {string.Join("; ", result.Errors)}");
    }

    public async Task<JobView> SubmitJobAsync(string clientId, JobSpec spec, long? maxMicroHu = null)
    {
        var result = await client.GetGrain<IJobGrain>(NextId("job")).SubmitAsync(new JobSubmission(clientId, spec, maxMicroHu));
        if (!result.Succeeded) throw new InvalidOperationException($"{result.Refusal}: {string.Join("; ", result.Errors)}");
        return result.Job!;
    }

    public async Task DisconnectAllAsync()
    {
        foreach (var device in _devices) await device.DisconnectAsync();
    }

    /// <summary>How simulated devices read round weights: the one place that knows where blobs are kept.</summary>
}
