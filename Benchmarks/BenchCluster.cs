using Huginn.Blobs;
using Huginn.Grains;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Silo.Hosting;
using Huginn.Simulation;
using Huginn.Workloads;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Huginn.Benchmarks;

/// <summary>
/// One in-process silo wired exactly like the host (AddHuginnSilo: in-memory storage, memory streams,
/// pool clock = TimeProvider.System), plus a grain call counter. Devices live in the client, as behind the Api.
/// </summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private readonly InProcessTestCluster _cluster;

    private readonly IBlobStore _blobs;

    private BenchCluster(InProcessTestCluster cluster, IBlobStore blobs)
    {
        (_cluster, _blobs) = (cluster, blobs);
        Pool = new PoolSetup(cluster.Client);
    }

    public IClusterClient Client => _cluster.Client;

    /// <summary>Accounts, devices and jobs of this run.</summary>
    public PoolSetup Pool { get; }

    /// <summary>The silo's services (its serializers and storage options).</summary>
    public IServiceProvider SiloServices => _cluster.Silos[0].ServiceProvider;

    /// <param name="configure">Pool rules for this run.</param>
    /// <param name="postgresConnectionString">Huginn:Storage=postgres on this database (state, reminders, streams); in memory when null.</param>
    /// <param name="configureSilo">A row's own additions to the silo (log levels, timing filters).</param>
    /// <param name="siloSettings">Configuration of the silo beyond the storage switch (e.g. Huginn:Storage:GroupCommit).</param>
    public static async Task<BenchCluster> StartAsync(Action<PoolOptions> configure, string? postgresConnectionString = null,
        Action<ISiloBuilder>? configureSilo = null, IReadOnlyDictionary<string, string?>? siloSettings = null)
    {
        var settings = new Dictionary<string, string?>(siloSettings ?? new Dictionary<string, string?>());
        if (postgresConnectionString is not null)
        {
            settings[HuginnSiloExtensions.StorageKey] = "postgres";
            settings["ConnectionStrings:Huginn"] = postgresConnectionString;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        // One store for the silo and the client's devices: in memory, or the database's blob tables.
        var blobs = BlobStores.Create(configuration, BlobStores.Memory);
        var builder = new InProcessTestClusterBuilder(1);
        // Logs go to the console harness, not to files in the working directory.
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton(blobs);
            silo.AddHuginnSilo(configuration);
            silo.Services.Configure(configure);
            silo.AddIncomingGrainCallFilter<CallCounter>();
            configureSilo?.Invoke(silo);
        });
        builder.ConfigureClient(client =>
        {
            client.Services.AddSingleton(blobs);
            // The client's device streams are the silo's: memory queues, or the PostgreSQL queues.
            if (postgresConnectionString is null) client.AddMemoryStreams(DeviceStreams.Provider);
            else client.AddAdoNetStreams(DeviceStreams.Provider, o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = postgresConnectionString;
            });
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new BenchCluster(cluster, blobs);
    }

    /// <summary>
    /// Devices heartbeat on their own at this interval (the pool clock is the system clock; the Api's interval is
    /// 10 s, the heartbeat timeout 30 s).
    /// </summary>
    public static readonly TimeSpan HeartbeatEvery = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A CPU device of its own owner. Every device but an honest one works one shard at a time and waits for each
    /// verdict, so that "caught after n shards" is exact.
    /// </summary>
    public Task<SimulatedDevice> AddDeviceAsync(Behavior behavior, int slots, int honestShards = 0, int seed = 0) =>
        Pool.AddDeviceAsync(PoolSetup.Cpu(slots), behavior, honestShards: honestShards, seed: seed,
            awaitsVerdicts: behavior != Behavior.Honest, heartbeatEvery: HeartbeatEvery);

    /// <summary>Gives a device the record of <paramref name="audits"/> confirmed audits, as if it had earned them.</summary>
    public static async Task TrustAsync(SimulatedDevice device, int audits)
    {
        for (var i = 0; i < audits; i++)
            await device.Grain.RecordVerdictAsync(new VerdictNotice(new ShardRef("trust-up", 0, i, 0), $"trust-{device.DeviceId}-{i}", Verdict.Verified));
    }

    /// <summary>Polls the job until it finishes; returns the view and how many polls it took (they are grain calls too).</summary>
    public async Task<(JobView Job, int Polls)> WaitAsync(string jobId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var polls = 0;
        while (true)
        {
            polls++;
            JobView job;
            try
            {
                job = (await Client.GetGrain<IJobGrain>(jobId).GetAsync())!;
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
                // A saturated job grain answers reads behind its queue of results; that is a finding, not a failure.
                continue;
            }
            if (job.IsFinished) return (job, polls);
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"job {jobId} not finished after {timeout}: {job.Status}, {job.Progress.ShardsDone}/{job.Progress.ShardsTotal} shards");
            await Task.Delay(50);
        }
    }

    /// <summary>A tiny inference job (MLP 4→[4]→1, 8 samples a shard): routing and settlement dominate, compute is nil.</summary>
    public static JobSpec TinyInference(int shards, ulong seed) => new()
    {
        Kind = WorkloadKind.Infer,
        Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 4, HiddenSizes = [4], OutputSize = 1 },
        Dataset = new DatasetSpec
        {
            Synthetic = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Teacher, Samples = shards * 8L, Seed = seed },
        },
        ShardsPerRound = shards,
        Seed = seed,
    };

    public async ValueTask DisposeAsync()
    {
        await _cluster.DisposeAsync();
        if (_blobs is IAsyncDisposable disposable) await disposable.DisposeAsync();
    }
}
