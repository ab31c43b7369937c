using Huginn.Blobs;
using Huginn.Grains.Rules;
using Huginn.Grains;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Silo.Hosting;
using Huginn.Workloads;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Huginn.Tests.Pool;

/// <summary>
/// One in-process Orleans cluster shared by every grain test. The pool clock is a fake: tests move it
/// forward to make deadlines and heartbeats lapse, while Orleans itself runs on real time.
/// </summary>
public sealed class PoolClusterFixture : IAsyncLifetime
{
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    /// <summary>The cluster's blob store, which the simulated devices (in the client) read round weights from, as workers do through the Api.</summary>
    public MemoryBlobStore Blobs { get; } = new(64L << 20, 1L << 30);

    /// <summary>The rules every grain test runs under; chosen so that prices are visible and trust builds quickly.</summary>
    public static void ConfigureTestPool(PoolOptions o)
    {
        o.HeartbeatTimeout = TimeSpan.FromSeconds(30);
        o.SweepInterval = TimeSpan.FromMilliseconds(50);
        o.DeviceCheckInterval = TimeSpan.FromMilliseconds(50);
        // Deadlines far beyond the heartbeat timeout: a silent device is found by its heartbeat, a stalled one by its lease.
        o.LeaseGrace = TimeSpan.FromMinutes(10);
        o.ProbationAudits = 2;
        o.BanAfterInvalidVerdicts = 3;
        o.AuditSalt = "huginn-tests";
        o.PartitionsPerClass = 2;
        o.MaxDevicesPerOwnerPerJob = 3;
        o.Pricing = new PricingOptions { FlopsPerHu = 1e9, MinShardMicroHu = 10, PoolFeeRate = 0.10 };
    }

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IBlobStore>(Blobs);
            silo.AddHuginnSilo(new ConfigurationBuilder().Build());
            silo.Services.AddKeyedSingleton<TimeProvider>(PoolClock.Key, Clock);
            silo.Services.Configure<PoolOptions>(ConfigureTestPool);
        });
        builder.ConfigureClient(client =>
        {
            client.AddMemoryStreams(DeviceStreams.Provider);
            client.Services.AddSingleton<IBlobStore>(Blobs);
        });
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class PoolCollection : ICollectionFixture<PoolClusterFixture>
{
    public const string Name = "pool";
}
