using Huginn.Api.Access;
using Huginn.Grains.Interfaces.Telemetry;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using Orleans.Dashboard;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Huginn.Api.Hosting;

/// <summary>
/// What operators watch on the Api: Prometheus metrics at <c>/metrics</c>, traces when configured
/// (<see cref="PoolTracing"/>: ASP.NET Core requests and the Orleans grain calls they make), and the split health endpoints
/// (<c>/healthz/live</c>, <c>/healthz/ready</c>, and <c>/healthz</c> for both, as API.md lists). deploy/k8s probes these;
/// the Ingress routes neither (docs/OPERATIONS.md).
/// </summary>
public static class ApiOperationsExtensions
{
    /// <summary>
    /// The pool's meter: its counters (Grains' PoolMeters) have values here only where a silo shares the process; its
    /// state gauges (<see cref="PoolStateGauges"/>) are polled through this Api's Orleans client.
    /// </summary>
    public const string PoolMeterName = PoolStateGauges.MeterName;

    /// <summary>Orleans' meter: on a stand-alone Api, the client's messaging and gateway connections.</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    private const string ReadyTag = "ready";

    /// <param name="configuration">Read for <see cref="PoolStateGauges.IntervalKey"/> and the tracing settings
    /// (<see cref="PoolTracing"/>); when null, the default interval and no tracing.</param>
    public static IServiceCollection AddHuginnApiOperations(this IServiceCollection services, IConfiguration? configuration = null)
    {
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("huginn-api"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddMeter(PoolMeterName, OrleansMeterName, "System.Runtime")
                .AddPrometheusExporter());
        if (configuration is not null && PoolTracing.Enabled(configuration))
            telemetry.WithTracing(tracing =>
            {
                // Probes and scrapes arrive every few seconds from every replica's kubelet and Prometheus: traced, they
                // would outnumber the requests worth looking at.
                tracing.AddAspNetCoreInstrumentation(o => o.Filter = context => !IsOperationsPath(context.Request.Path))
                    .AddSource(PoolTracing.OrleansSources);
                if (PoolTracing.SampleRatio(configuration) is { } ratio) tracing.SetSampler(new TraceIdRatioBasedSampler(ratio));
                if (PoolTracing.OtlpEndpoint(configuration) is { } endpoint)
                    tracing.AddOtlpExporter(o =>
                    {
                        // The standard variable is read by the exporter itself (it adds /v1/traces for http/protobuf);
                        // Huginn's key is taken as the exact address.
                        if (!string.IsNullOrWhiteSpace(configuration[PoolTracing.OtlpEndpointKey])) o.Endpoint = endpoint;
                    });
            });
        services.AddHealthChecks()
            .AddCheck<ClusterClientHealthCheck>("cluster", tags: [ReadyTag]);
        PoolStateGauges.AddPoolStateGauges(services, configuration?.GetValue<TimeSpan?>(PoolStateGauges.IntervalKey));
        return services;
    }

    public static WebApplication MapHuginnApiOperations(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint().WithTags("Operations").WithName("Metrics")
            .WithSummary("Prometheus text: ASP.NET Core, Orleans client, .NET runtime and the pool's meters.")
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), ["text/plain"]));
        // Liveness runs no check: the process answers. A restart cannot fix the cluster being away, so it must not count.
        // Minimal-API endpoints (not MapHealthChecks) so that the OpenAPI document lists them with the others.
        app.MapGet("/healthz/live", (HealthCheckService health, CancellationToken ct) => ReportAsync(health, _ => false, ct))
            .WithTags("Operations").WithName("Live").WithSummary("Liveness: the process answers; depends on nothing else.")
            .Produces<HealthReportResponse>();
        app.MapGet("/healthz/ready", (HealthCheckService health, CancellationToken ct) => ReportAsync(health, c => c.Tags.Contains(ReadyTag), ct))
            .WithTags("Operations").WithName("Ready").WithSummary("Readiness: the cluster answers through this Api's Orleans client (503 if not).")
            .Produces<HealthReportResponse>().Produces<HealthReportResponse>(StatusCodes.Status503ServiceUnavailable);
        app.MapGet("/healthz", (HealthCheckService health, CancellationToken ct) => ReportAsync(health, _ => true, ct))
            .WithTags("Operations").WithName("Health").WithSummary("Liveness and readiness together (503 if not ready).")
            .Produces<HealthReportResponse>().Produces<HealthReportResponse>(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>
    /// The Orleans Dashboard at <c>/dashboard</c> when <see cref="OrleansDashboardSettings.EnabledKey"/> is set, for the
    /// operator only: every request under the path, its pages, scripts and JSON alike, must carry the operator key, as
    /// a bearer token (curl, a proxy) or as the password of HTTP Basic authentication (any user name), which is what a
    /// browser sends on every request of the page once asked by the 401's challenge. Wrong keys count as failed
    /// authentications of the address, as on the other operator endpoints.
    /// </summary>
    public static WebApplication MapHuginnDashboard(this WebApplication app)
    {
        if (!OrleansDashboardSettings.Enabled(app.Configuration)) return app;
        // A middleware rather than an endpoint filter: the dashboard maps files and request delegates, which endpoint
        // filters do not wrap, so a filter would leave some of its endpoints open.
        app.UseWhen(context => context.Request.Path.StartsWithSegments(OrleansDashboardSettings.Path), branch => branch.Use(async (context, next) =>
        {
            var check = context.RequestServices.GetRequiredService<OperatorCheck>();
            var access = check.Check(context, DashboardSecretOf(context), countFailure: true);
            if (access == OperatorAccess.None)
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"Huginn operator\", charset=\"UTF-8\"";
            if (check.RefusalFor(context, access, "only the operator sees the dashboard") is { } refusal)
            {
                await refusal.ExecuteAsync(context);
                return;
            }
            await next(context);
        }));
        app.MapOrleansDashboard(OrleansDashboardSettings.Path);
        return app;
    }

    // The bearer token, else the password of Basic credentials; null when neither is there or they do not decode.
    private static string? DashboardSecretOf(HttpContext context)
    {
        if (Authenticator.SecretOf(context) is { Length: > 0 } bearer) return bearer;
        var header = context.Request.Headers.Authorization.ToString();
        const string basic = "Basic ";
        if (!header.StartsWith(basic, StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            var credentials = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(header[basic.Length..].Trim()));
            var colon = credentials.IndexOf(':');
            return colon >= 0 ? credentials[(colon + 1)..] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static bool IsOperationsPath(PathString path) =>
        path.StartsWithSegments("/metrics") || path.StartsWithSegments("/healthz");

    // The body the single /healthz always had ({"status":"ok"}), with each failing check's reason when not.
    private static async Task<IResult> ReportAsync(HealthCheckService health, Func<HealthCheckRegistration, bool> checks, CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(checks, ct);
        if (report.Status == HealthStatus.Healthy) return Results.Ok(new HealthReportResponse("ok", null));
        var failed = report.Entries.Where(e => e.Value.Status != HealthStatus.Healthy)
            .ToDictionary(e => e.Key, e => e.Value.Description ?? e.Value.Exception?.Message);
        return Results.Json(new HealthReportResponse("unavailable", failed), statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}

/// <summary>A health probe's answer: "ok", or "unavailable" with each failing check's reason.</summary>
public sealed record HealthReportResponse(string Status, IReadOnlyDictionary<string, string?>? Failed);

/// <summary>
/// Ready when a round trip through the Orleans client reaches the cluster: the management grain lists at least one
/// active silo within a few seconds. A client still connecting, or whose gateways are all gone, fails it.
/// </summary>
public sealed class ClusterClientHealthCheck(IClusterClient client) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(Timeout, cancellationToken);
            return hosts.Count > 0
                ? HealthCheckResult.Healthy($"{hosts.Count} active silo(s)")
                : HealthCheckResult.Unhealthy("the cluster lists no active silo");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the cluster did not answer: {ex.GetType().Name}", ex);
        }
    }
}
