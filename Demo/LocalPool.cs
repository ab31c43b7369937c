using System.Net;
using System.Net.Sockets;
using Huginn.Api.Hosting;
using Huginn.Silo.Hosting;

namespace Huginn.Demo;

/// <summary>A whole pool in one process on loopback: one silo with the Api co-hosted, on free ports.</summary>
public sealed class LocalPool : IAsyncDisposable
{
    private readonly WebApplication _app;

    public Uri ApiUrl { get; }

    /// <summary>The silo's own grain factory: the operator's view (pool accounts, ledger audit).</summary>
    public IGrainFactory Grains => _app.Services.GetRequiredService<IGrainFactory>();

    /// <summary>The host's services: the co-hosted cluster client and its stream providers, options.</summary>
    public IServiceProvider Services => _app.Services;

    private LocalPool(WebApplication app, Uri apiUrl) => (_app, ApiUrl) = (app, apiUrl);

    /// <param name="overrides">Extra configuration, e.g. Huginn:Storage=postgres with its connection string and ports.</param>
    /// <param name="apiPort">A fixed port (to restart a pool where its workers expect it); a free one when null.</param>
    /// <param name="configureSilo">Extra silo wiring after the pool's own, e.g. a benchmark's grain call filters.</param>
    /// <param name="configureLogging">Extra logging after the pool's own, e.g. a test's provider that captures every line.</param>
    public static async Task<LocalPool> StartAsync(IConfiguration? overrides = null, int? apiPort = null, Action<ISiloBuilder>? configureSilo = null,
        Action<ILoggingBuilder>? configureLogging = null)
    {
        apiPort ??= FreePort();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        if (overrides is not null) builder.Configuration.AddConfiguration(overrides);
        // One line per event, warnings and up: the pool's own voice when it catches a cheater.
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Error);
        configureLogging?.Invoke(builder.Logging);
        builder.UseOrleans(silo =>
        {
            if (HuginnSiloExtensions.UsesPostgres(builder.Configuration)) silo.UseHuginnClustering(builder.Configuration);
            else silo.UseLocalhostClustering(siloPort: FreePort(), gatewayPort: FreePort());
            silo.AddHuginnSilo(builder.Configuration);
            configureSilo?.Invoke(silo);
        });
        builder.Services.AddHuginnApi(builder.Configuration);
        builder.WebHost.UseUrls($"http://127.0.0.1:{apiPort}");
        var app = builder.Build();
        app.MapHuginnApi();
        await app.StartAsync();
        return new LocalPool(app, new Uri($"http://127.0.0.1:{apiPort}/"));
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }
}
