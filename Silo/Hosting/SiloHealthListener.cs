using System.Net;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Huginn.Silo.Hosting;

/// <summary>
/// The silo's probes for Kubernetes on <c>Huginn:Health:Port</c>. The silo has no web server, and pulling ASP.NET Core
/// in for two fixed answers would cost more than this listener.
/// <list type="bullet">
/// <item><c>/healthz/live</c>: 200 while the process answers at all. It depends on nothing else (not PostgreSQL, not other
/// silos), so an outage of either never makes Kubernetes restart healthy silos, which would only make it worse.</item>
/// <item><c>/healthz/ready</c>: 200 once this silo is Active in the cluster's membership and until it starts shutting
/// down: the silo has migrated, joined and serves grains and its gateway.</item>
/// </list>
/// </summary>
public sealed partial class SiloHealthListener(
    int port,
    IServiceProvider services,
    IHostApplicationLifetime lifetime,
    ILogger<SiloHealthListener> logger) : BackgroundService
{
    private readonly HttpListener _listener = new();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Bound before the silo starts (this service is registered first), so liveness answers during start-up.
        _listener.Prefixes.Add($"http://+:{port}/");
        _listener.Start();
        LogListening(port);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var _ = stoppingToken.Register(_listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException ex)
            {
                LogFailed(ex);
                continue;
            }
            Answer(context);
        }
    }

    private void Answer(HttpListenerContext context)
    {
        var (status, body) = context.Request.Url?.AbsolutePath switch
        {
            "/healthz/live" => (200, "live"),
            "/healthz/ready" or "/healthz" => IsReady() ? (200, "ready") : (503, "not ready"),
            _ => (404, "not found"),
        };
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        context.Response.ContentLength64 = bytes.Length;
        context.Response.OutputStream.Write(bytes);
        context.Response.Close();
    }

    /// <summary>Active in membership, and not stopping: Kubernetes takes a stopping silo out of endpoints before Orleans' shutdown ends.</summary>
    private bool IsReady()
    {
        if (lifetime.ApplicationStopping.IsCancellationRequested) return false;
        if (services.GetService(typeof(ILocalSiloDetails)) is not ILocalSiloDetails local
            || services.GetService(typeof(IClusterMembershipService)) is not IClusterMembershipService membership)
            return false;
        return membership.CurrentSnapshot.GetSiloStatus(local.SiloAddress) == SiloStatus.Active;
    }

    public override void Dispose()
    {
        _listener.Close();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Health probes on port {Port}: /healthz/live, /healthz/ready")]
    private partial void LogListening(int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Health listener could not take a request")]
    private partial void LogFailed(Exception exception);
}
