using System.Net;
using System.Net.Sockets;
using Huginn.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Huginn.Tests.Durable;

/// <summary>A real silo host in this process with Huginn:Storage=postgres, on free ports, the way Silo/Program.cs builds one.</summary>
public sealed class DurableSilo : IAsyncDisposable
{
    private readonly IHost _host;

    private DurableSilo(IHost host) => _host = host;

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    public IServiceProvider Services => _host.Services;

    /// <summary>The co-hosted client: streams subscribed through it go through the silo's providers.</summary>
    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public static async Task<DurableSilo> StartAsync(TestDatabase database, string clusterId)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [HuginnSiloExtensions.StorageKey] = "postgres",
            ["ConnectionStrings:Huginn"] = database.ConnectionString,
            [HuginnSiloExtensions.ClusterIdKey] = clusterId,
            [HuginnSiloExtensions.SiloPortKey] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            [HuginnSiloExtensions.GatewayPortKey] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.UseOrleans(silo =>
        {
            silo.UseHuginnClustering(builder.Configuration);
            silo.AddHuginnSilo(builder.Configuration);
        });
        var host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return new DurableSilo(host);
    }

    /// <summary>A graceful stop: the silo leaves the cluster and deactivates its grains, as on a deploy.</summary>
    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _host.StopAsync(timeout.Token);
        _host.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
