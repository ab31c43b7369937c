using System.Net;
using Huginn.Blobs;
using Huginn.Grains;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Telemetry;
using Huginn.Silo.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Serialization;
using Orleans.Storage;

namespace Huginn.Silo.Hosting;

/// <summary>How a Huginn silo is put together; the silo host and the test cluster both call these.</summary>
public static class HuginnSiloExtensions
{
    public const string StorageKey = "Huginn:Storage";

    /// <summary>Cluster id shared by the silos and the Api in the durable mode (<c>Huginn:ClusterId</c>).</summary>
    public const string ClusterIdKey = "Huginn:ClusterId";

    /// <summary>Silo-to-silo port in the durable mode (<c>Huginn:SiloPort</c>, default 11111).</summary>
    public const string SiloPortKey = "Huginn:SiloPort";

    /// <summary>Port clients (the Api) connect to in the durable mode (<c>Huginn:GatewayPort</c>, default 30000).</summary>
    public const string GatewayPortKey = "Huginn:GatewayPort";

    /// <summary>Address other silos and clients reach this silo at (<c>Huginn:AdvertisedIP</c>, default 127.0.0.1).</summary>
    public const string AdvertisedIpKey = "Huginn:AdvertisedIP";

    /// <summary>How often the memory mode polls each device-stream queue (<c>Huginn:Streams:PollPeriod</c>).</summary>
    public const string MemoryStreamPollPeriodKey = "Huginn:Streams:PollPeriod";

    /// <summary>
    /// An assignment waits for the next poll of its queue: half a period on average, a whole one at worst.
    /// 4 ms keeps that well inside the gateway's 20 ms p99 budget (it was 20 ms, which alone spent it); with
    /// <see cref="DeviceStreams.DefaultMemoryQueues"/> queues instead of 8, the pool polls about as often
    /// when idle as before (2 × 250/s against 8 × 50/s). Timers do not tick much faster than this anyway.
    /// Measured in docs/BENCHMARKS.md, row 3.
    /// </summary>
    public static readonly TimeSpan DefaultMemoryStreamPollPeriod = TimeSpan.FromMilliseconds(4);

    /// <summary>
    /// Whether the durable mode keeps grain state (<c>huginn</c>) in <see cref="GroupCommitGrainStorage"/>, which commits the
    /// writes of all grains together (<c>Huginn:Storage:GroupCommit</c>, default true), or in Orleans' ADO.NET storage, one
    /// transaction per write.
    /// </summary>
    public const string GroupCommitKey = "Huginn:Storage:GroupCommit";

    /// <summary>How long a group commit waits to gather writes after the first (<c>Huginn:Storage:GroupCommitLinger</c>, default 0).</summary>
    public const string GroupCommitLingerKey = "Huginn:Storage:GroupCommitLinger";

    /// <summary>Orleans' ServiceId: it keys grain state, reminders and streams in the database, so it never changes.</summary>
    public const string ServiceId = "huginn";

    /// <summary>True when configuration picks the durable mode.</summary>
    public static bool UsesPostgres(IConfiguration configuration) => StorageOf(configuration) == "postgres";

    /// <summary>
    /// How silos find each other. The local default: one silo on localhost. Postgres: membership in the database,
    /// on the ports and address from configuration, so silos on several machines form one cluster.
    /// </summary>
    public static ISiloBuilder UseHuginnClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        // Failure detection (probe timeouts, votes) is tunable: Huginn:Membership binds Orleans' ClusterMembershipOptions.
        silo.Services.AddOptions<ClusterMembershipOptions>().Bind(configuration.GetSection("Huginn:Membership"));
        silo.UseHuginnNetworkSecurity(configuration);
        if (!UsesPostgres(configuration))
            return silo.UseLocalhostClustering(configuration.GetValue(SiloPortKey, EndpointOptions.DEFAULT_SILO_PORT),
                configuration.GetValue(GatewayPortKey, EndpointOptions.DEFAULT_GATEWAY_PORT));
        var postgres = PostgresStorageOptions.From(configuration);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = configuration[ClusterIdKey] ?? "huginn";
            o.ServiceId = ServiceId;
        });
        silo.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = IPAddress.Parse(configuration[AdvertisedIpKey] ?? "127.0.0.1");
            o.SiloPort = configuration.GetValue(SiloPortKey, EndpointOptions.DEFAULT_SILO_PORT);
            o.GatewayPort = configuration.GetValue(GatewayPortKey, EndpointOptions.DEFAULT_GATEWAY_PORT);
            // Listening on the advertised (private) address unless told otherwise, e.g. 0.0.0.0 behind NAT.
            if (configuration[HuginnSiloSecurity.ListenIpKey] is { Length: > 0 } listen)
            {
                o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Parse(listen), o.SiloPort);
                o.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Parse(listen), o.GatewayPort);
            }
        });
        return silo.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresStorageOptions.Invariant;
            o.ConnectionString = postgres.ConnectionString;
        });
    }

    /// <summary>
    /// Pool rules from configuration, the storage, streams and reminders the grains need, and the blob store with
    /// its collector. The blob store defaults to memory here (a silo sharing its process with the Api or a test);
    /// a stand-alone silo registers its own first (Program.cs).
    /// </summary>
    public static ISiloBuilder AddHuginnSilo(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddOptions<PoolOptions>().Bind(configuration.GetSection(PoolOptions.Section));
        silo.Services.TryAddKeyedSingleton(PoolClock.Key, TimeProvider.System);
        silo.Services.AddHuginnBlobStore(configuration);
        silo.Services.AddHostedService<BlobCollector>();
        // Grain calls carry the caller's trace context and start spans (Orleans' activity sources) only with this; the
        // Api's client adds the same (AddHuginnClusterClient), and the hosts export the spans (docs/OPERATIONS.md).
        if (PoolTracing.Enabled(configuration)) silo.AddActivityPropagation();
        // The dashboard's profiler and grains live on the silos; the Api serves its pages (docs/OPERATIONS.md).
        if (OrleansDashboardSettings.Enabled(configuration)) silo.AddDashboard();
        return silo.AddHuginnStorage(configuration);
    }

    /// <summary>
    /// One switch picks where state lives. "memory" (the local default) keeps everything in the silo's memory:
    /// nothing to install, nothing survives a restart. "postgres" keeps grain state, reminders and the device
    /// streams in PostgreSQL (ConnectionStrings:Huginn), migrating the schema before the silo starts; grain state goes
    /// through <see cref="GroupCommitGrainStorage"/> unless <c>Huginn:Storage:GroupCommit=false</c>.
    /// Clustering is picked by <see cref="UseHuginnClustering"/>.
    /// </summary>
    public static ISiloBuilder AddHuginnStorage(this ISiloBuilder silo, IConfiguration configuration)
    {
        var storage = StorageOf(configuration);
        switch (storage)
        {
            case "memory":
                // The Orleans binary serializer, as in the durable mode: Orleans' default here is Newtonsoft JSON, which
                // turned every state write into strings and was most of what a running job allocated (docs/BENCHMARKS.md, row 3).
                silo.AddMemoryGrainStorage(StorageNames.State, BinaryMemoryStorage);
                silo.AddMemoryGrainStorage(StorageNames.PubSub, BinaryMemoryStorage);
                // Poll often: a device waits on this stream for its next shard, on average half a period.
                var pollPeriod = configuration.GetValue(MemoryStreamPollPeriodKey, DefaultMemoryStreamPollPeriod);
                silo.AddMemoryStreams(DeviceStreams.Provider, streams =>
                {
                    streams.ConfigurePartitioning(DeviceStreams.MemoryQueues(configuration[DeviceStreams.MemoryQueuesKey]));
                    streams.ConfigurePullingAgent(agent => agent.Configure(o => o.GetQueueMsgsTimerPeriod = pollPeriod));
                });
                silo.UseInMemoryReminderService();
                return silo;
            case "postgres":
                return silo.AddPostgresStorage(PostgresStorageOptions.From(configuration), configuration);
            default:
                throw new InvalidOperationException(
                    $"{StorageKey}='{configuration[StorageKey]}' is not a storage this silo knows; use 'memory' (the default) or 'postgres'.");
        }
    }

    private static void BinaryMemoryStorage(OptionsBuilder<MemoryGrainStorageOptions> options) =>
        options.Configure<Serializer>((o, serializer) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));

    private static ISiloBuilder AddPostgresStorage(this ISiloBuilder silo, PostgresStorageOptions postgres, IConfiguration configuration)
    {
        silo.Services.AddSingleton(postgres);
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, MigrationsParticipant>();

        // The Orleans binary serializer: our state records are [GenerateSerializer] types with stable ids,
        // which it round-trips exactly and keeps readable across versions (the JSON default does neither).
        void GrainStorage(OptionsBuilder<AdoNetGrainStorageOptions> options) => options.Configure<Serializer>((o, serializer) =>
        {
            o.Invariant = PostgresStorageOptions.Invariant;
            o.ConnectionString = postgres.ConnectionString;
            o.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        });
        if (configuration.GetValue(GroupCommitKey, true))
        {
            // Every state write of a silo shares a commit with the others queued at the same time (docs/BENCHMARKS.md, row 2).
            var linger = configuration.GetValue(GroupCommitLingerKey, TimeSpan.Zero);
            silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.State, (services, _) => new GroupCommitGrainStorage(
                new GroupCommitOptions(postgres.ConnectionString, ServiceId, linger),
                new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()),
                services.GetRequiredService<ILogger<GroupCommitGrainStorage>>()));
        }
        else
        {
            silo.AddAdoNetGrainStorage(StorageNames.State, GrainStorage);
        }
        // Orleans keeps a stream provider's subscriptions in the grain storage named like the provider when there is one,
        // so the device streams' ("huginn") share the grain state's storage; PubSubStore serves any other provider.
        silo.AddAdoNetGrainStorage(StorageNames.PubSub, GrainStorage);
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = PostgresStorageOptions.Invariant;
            o.ConnectionString = postgres.ConnectionString;
        });
        silo.AddAdoNetStreams(DeviceStreams.Provider, streams =>
        {
            streams.ConfigureAdoNet(options => options.Configure(o => ConfigureStreams(o, postgres)));
            // Poll often, as in the local default: a device waits on this stream for its next shard.
            streams.ConfigurePullingAgent(agent => agent.Configure(o => o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(100)));
        });
        return silo;
    }

    /// <summary>The device streams' queue settings; the Api's client uses the same.</summary>
    public static void ConfigureStreams(AdoNetStreamOptions options, PostgresStorageOptions postgres)
    {
        options.Invariant = PostgresStorageOptions.Invariant;
        options.ConnectionString = postgres.ConnectionString;
    }

    private static string StorageOf(IConfiguration configuration) => (configuration[StorageKey] ?? "memory").ToLowerInvariant();
}
