using Huginn.Grains.Interfaces.Telemetry;
using Huginn.Grains.Telemetry;
using Huginn.Silo.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Hosting.Kubernetes;

namespace Huginn.Silo.Hosting;

/// <summary>
/// What an operator's silo adds to the pool's: Kubernetes hosting, the health and metrics listeners, and the
/// migrate-only command. Each is off unless configured, so local runs and the test clusters are unchanged.
/// The keys are the ones deploy/k8s sets (docs/OPERATIONS.md).
/// </summary>
public static class SiloOperationsExtensions
{
    /// <summary><c>Huginn:Kubernetes=true</c>: Microsoft.Orleans.Hosting.Kubernetes (silo name = pod name, pod watch).</summary>
    public const string KubernetesKey = "Huginn:Kubernetes";

    /// <summary>Port of the silo's <c>/healthz/live</c> and <c>/healthz/ready</c> (<c>Huginn:Health:Port</c>); none when unset.</summary>
    public const string HealthPortKey = "Huginn:Health:Port";

    /// <summary>Port of the silo's Prometheus <c>/metrics</c> (<c>Huginn:Metrics:Port</c>); none when unset.</summary>
    public const string MetricsPortKey = "Huginn:Metrics:Port";

    /// <summary>Orleans' own meter (grain calls, messaging, membership).</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>
    /// Kubernetes hosting when <c>Huginn:Kubernetes=true</c>. It needs the pod's ServiceAccount to get, list, watch and
    /// patch pods (deploy/k8s/base/silo-rbac.yaml) and POD_NAME, POD_NAMESPACE, POD_IP, ORLEANS_SERVICE_ID and
    /// ORLEANS_CLUSTER_ID from the manifest. Clustering stays in PostgreSQL (<see cref="HuginnSiloExtensions.UseHuginnClustering"/>):
    /// the package watches pods, it does not replace the membership table.
    /// </summary>
    public static ISiloBuilder UseHuginnKubernetesHosting(this ISiloBuilder silo, IConfiguration configuration)
    {
        if (!configuration.GetValue(KubernetesKey, false)) return silo;
        // The package sets ServiceId from ORLEANS_SERVICE_ID; ours keys every row of state in the database, so a
        // manifest that says otherwise would start an empty pool on the same database. Refuse to start instead.
        var serviceId = Environment.GetEnvironmentVariable(KubernetesHostingOptions.ServiceIdEnvironmentVariable);
        if (!string.IsNullOrEmpty(serviceId) && serviceId != HuginnSiloExtensions.ServiceId)
            throw new InvalidOperationException(
                $"{KubernetesHostingOptions.ServiceIdEnvironmentVariable}='{serviceId}' but Huginn's ServiceId is '{HuginnSiloExtensions.ServiceId}': it keys the data, set the label and variable to it.");
        return silo.UseKubernetesHosting();
    }

    /// <summary>
    /// Tracing when configured (<see cref="PoolTracing"/>), the health listener (before the silo in start-up order, so
    /// liveness answers while the silo migrates and joins)
    /// and the Prometheus listener with the pool's, Orleans' and the runtime's meters, with the pool state gauges'
    /// poller (<see cref="PoolStateGauges"/>; it needs the silo's cluster client and retries until the silo is up).
    /// Call before <c>UseOrleans</c>.
    /// </summary>
    public static IServiceCollection AddHuginnSiloOperations(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.GetValue<int?>(HealthPortKey) is { } healthPort)
            services.AddHostedService(provider => ActivatorUtilities.CreateInstance<SiloHealthListener>(provider, healthPort));
        if (PoolTracing.Enabled(configuration))
        {
            // Grain calls (propagated from the Api's client, AddHuginnSilo) and grain storage; exported only where a
            // collector is configured, as in the Api.
            services.AddOpenTelemetry()
                .ConfigureResource(resource => resource.AddService("huginn-silo"))
                .WithTracing(tracing =>
                {
                    tracing.AddSource(PoolTracing.OrleansSources);
                    if (PoolTracing.SampleRatio(configuration) is { } ratio) tracing.SetSampler(new TraceIdRatioBasedSampler(ratio));
                    if (PoolTracing.OtlpEndpoint(configuration) is { } endpoint)
                        tracing.AddOtlpExporter(o =>
                        {
                            if (!string.IsNullOrWhiteSpace(configuration[PoolTracing.OtlpEndpointKey])) o.Endpoint = endpoint;
                        });
                });
        }
        if (configuration.GetValue<int?>(MetricsPortKey) is { } metricsPort)
        {
            services.AddOpenTelemetry()
                .ConfigureResource(resource => resource.AddService("huginn-silo"))
                .WithMetrics(metrics => metrics
                    .AddMeter(PoolMeters.MeterName, OrleansMeterName, "System.Runtime")
                    .AddPrometheusHttpListener(o =>
                    {
                        // The exporter builds its prefix from Host, which cannot be a wildcard, but Prometheus scrapes the pod
                        // IP: the listener's prefix is replaced by one that takes every host name on that port.
                        o.Port = metricsPort;
                        o.ConfigureHttpListener = (_, listener) =>
                        {
                            listener.Prefixes.Clear();
                            listener.Prefixes.Add($"http://+:{metricsPort}/");
                        };
                    }));
            PoolStateGauges.AddPoolStateGauges(services, configuration.GetValue<TimeSpan?>(PoolStateGauges.IntervalKey));
        }
        return services;
    }

    /// <summary>
    /// <c>Huginn.Silo migrate</c>: applies the schema migrations and exits, for the Kubernetes Job that runs before the
    /// silos roll. Silos still migrate at start-up under the same advisory lock, so a skipped Job costs nothing.
    /// </summary>
    public static async Task<int> MigrateAsync(IConfiguration configuration, ILoggerFactory? loggers = null)
    {
        var postgres = PostgresStorageOptions.From(configuration);
        var logger = (loggers ?? NullLoggerFactory.Instance).CreateLogger<PostgresMigrator>();
        var applied = await new PostgresMigrator(postgres.ConnectionString, logger).MigrateAsync();
        logger.LogInformation("Applied {Count} migration(s); the schema is at version {Version}",
            applied.Count, PostgresMigrator.All.Max(m => m.Version));
        return 0;
    }
}
