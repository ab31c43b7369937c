using Huginn.Grains;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace Huginn.Benchmarks;

/// <summary>
/// The silo of <see cref="BenchCluster"/> (AddHuginnSilo: in-memory storage, memory streams, pool clock =
/// TimeProvider.System, the grain call counter), with the information logs off: 10,000 devices coming online
/// would otherwise log 10,000 lines, which is not what routing at scale costs.
/// </summary>
public sealed class Row5RoutingCluster : IAsyncDisposable
{
    private readonly InProcessTestCluster _cluster;

    private Row5RoutingCluster(InProcessTestCluster cluster) => _cluster = cluster;

    public IClusterClient Client => _cluster.Client;

    /// <summary>The silo's services (its serializers and storage options).</summary>
    public IServiceProvider SiloServices => _cluster.Silos[0].ServiceProvider;

    public static async Task<Row5RoutingCluster> StartAsync(Action<PoolOptions> configure)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddHuginnSilo(new ConfigurationBuilder().Build());
            silo.Services.Configure(configure);
            silo.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
            silo.AddIncomingGrainCallFilter<CallCounter>();
            silo.AddIncomingGrainCallFilter<Row5TurnTimer>();
        });
        builder.ConfigureClient(client => client.AddMemoryStreams(DeviceStreams.Provider));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new Row5RoutingCluster(cluster);
    }

    public async ValueTask DisposeAsync() => await _cluster.DisposeAsync();
}
