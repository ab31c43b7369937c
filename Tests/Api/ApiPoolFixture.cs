using System.Net.WebSockets;
using Huginn.Demo;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Protocol;
using Huginn.Worker.Agent;
using Huginn.Worker.Hardware;
using Huginn.Workloads;
using Microsoft.Extensions.Configuration;

namespace Huginn.Tests.Api;

/// <summary>
/// A real pool on loopback for the edge tests: one silo with the Api co-hosted on a free port; workers are
/// real TorchSharp agents over real WebSockets, in this process so that the suite stays quick.
/// </summary>
public sealed class ApiPoolFixture : IAsyncLifetime
{
    public LocalPool Pool { get; private set; } = null!;
    public HardwareProfile Hardware { get; private set; } = null!;

    /// <summary>Configuration added after the fixture's own, for a test that starts a pool of its own.</summary>
    public IReadOnlyDictionary<string, string?> Overrides { get; init; } = new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        // Small frames make the oversized-frame rule testable without allocating 64 MiB.
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Api:MaxFrameBytes"] = (1024 * 1024).ToString(),
            ["Huginn:Api:HelloTimeout"] = "00:00:02",
        }).AddInMemoryCollection(Overrides).Build();
        Pool = await LocalPool.StartAsync(settings);
        Hardware = HardwareProbe.Detect(threads: 1);
    }

    public async Task DisposeAsync() => await Pool.DisposeAsync();

    public PoolClient Anonymous() => new(Pool.ApiUrl);

    public async Task<PoolClient> ClientWithHuAsync(decimal hu)
    {
        using var anonymous = Anonymous();
        var account = await anonymous.CreateAccountAsync("client", "client");
        var client = anonymous.As(account.ApiKey);
        await client.BuyAsync(hu);
        return client;
    }

    public async Task<(PoolClient Owner, string DeviceId, string Token)> DeviceAsync(string name)
    {
        using var anonymous = Anonymous();
        var account = await anonymous.CreateAccountAsync(name, "contributor");
        var owner = anonymous.As(account.ApiKey);
        var device = await owner.RegisterDeviceAsync(name, TorchShardExecutor.Capabilities(Hardware));
        return (owner, device.DeviceId, device.DeviceToken);
    }

    public async Task AssertLedgerBalancedAsync()
    {
        var audit = await Pool.Grains.GetGrain<ILedgerGrain>(ILedgerGrain.Key).AuditAsync();
        Assert.True(audit.Balanced, $"ledger out of balance: minted {audit.MintedMicroHu}, held {audit.HeldMicroHu}");
    }

    public Uri WorkerUri => new UriBuilder(new Uri(Pool.ApiUrl, "v1/workers/connect")) { Scheme = "ws" }.Uri;

    /// <summary>A raw protocol peer, for the cases a well-behaved worker never produces.</summary>
    public async Task<ClientWebSocket> ConnectRawAsync(string? token)
    {
        var socket = new ClientWebSocket();
        if (token is not null) socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        socket.Options.AddSubProtocol(Frame.SubProtocol);
        await socket.ConnectAsync(WorkerUri, CancellationToken.None);
        return socket;
    }
}

[CollectionDefinition(Name)]
public sealed class ApiPoolCollection : ICollectionFixture<ApiPoolFixture>
{
    public const string Name = "api-pool";
}

/// <summary>Real workers started for one test and stopped (sockets closed) at its end.</summary>
public sealed class RunningWorkers(ApiPoolFixture fixture) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];

    public List<(string Name, PoolClient Owner, string DeviceId, CancellationTokenSource Kill)> Workers { get; } = [];

    /// <summary>The agents, in start order (what they downloaded, what they earned).</summary>
    public List<WorkerAgent> Agents { get; } = [];

    /// <summary>What the workers said, for the failure message of a test that timed out.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Log { get; } = new();

    public async Task<string> StartAsync(string name, Fault fault = Fault.None, int slots = 1)
    {
        var (owner, deviceId, token) = await fixture.DeviceAsync(name);
        var kill = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var agent = new WorkerAgent(new WorkerOptions { Api = fixture.Pool.ApiUrl, DeviceToken = token, Fault = fault, ShutdownGrace = TimeSpan.Zero, Slots = slots },
            TorchShardExecutor.Capabilities(fixture.Hardware, slots), new TorchShardExecutor(fixture.Hardware), line => Log.Enqueue($"[{name}] {line}"));
        Agents.Add(agent);
        _running.Add(Task.Run(() => agent.RunAsync(kill.Token)));
        Workers.Add((name, owner, deviceId, kill));
        await Pool.Eventually.UntilAsync(() => owner.DeviceAsync(deviceId), d => d.Status == "online", $"{name} coming online");
        return deviceId;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_running);
        foreach (var worker in Workers)
            await Pool.Eventually.UntilAsync(() => worker.Owner.DeviceAsync(worker.DeviceId), d => d.Status != "online", $"{worker.Name} going offline");
    }
}

public static class EdgeSpecs
{
    public static JobSpec Training(int rounds, int shards, ulong seed = 11) => new()
    {
        Kind = WorkloadKind.Train,
        Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 8, HiddenSizes = [16], OutputSize = 1 },
        Dataset = new DatasetSpec { Synthetic = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Teacher, Samples = shards * 128L, Seed = seed, Noise = 0.01 } },
        Rounds = rounds,
        ShardsPerRound = shards,
        LocalSteps = 20,
        BatchSize = 16,
        LearningRate = 0.05f,
        Seed = seed,
    };
}
