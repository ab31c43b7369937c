using System.Text.Json.Serialization;
using Huginn.Api.Access;
using Huginn.Api.Apis;
using Huginn.Api.Workers;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Telemetry;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace Huginn.Api.Hosting;

/// <summary>The Api's wiring, shared by its own host, the local pool and the tests.</summary>
public static class ApiHostingExtensions
{
    public const long MaxJsonBodyBytes = 1024 * 1024;

    /// <summary>
    /// Services of the Api; the Orleans client (or co-hosted silo) is configured by the host. The blob store is the
    /// co-hosted silo's when there is one, else memory unless the host registered another first (Program.cs).
    /// </summary>
    public static IServiceCollection AddHuginnApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiOptions>().Bind(configuration.GetSection(ApiOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();
        services.AddOptions<DatasetOptions>().Bind(configuration.GetSection(DatasetOptions.Section));
        // ASP.NET's "Request starting" lines carry the whole URL, query string included, at Information: kept off unless
        // the configuration asks for them (Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics), so that a secret
        // a client put in a URL by mistake does not land in the logs (issue 12, finding 10).
        if (configuration["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] is null)
            services.AddLogging(logging => logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning));
        services.AddHuginnBlobStore(configuration);
        services.AddProblemDetails();
        services.AddExceptionHandler<ClusterUnavailableHandler>();
        // Binding failures become exceptions so that BadRequestHandler answers them with the field at fault.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<BadRequestHandler>();
        services.Configure<JsonOptions>(o =>
        {
            // A misspelt field would otherwise be ignored silently and its default used: refused by name instead.
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase));
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
            // Numbers are JSON numbers only: neither "NaN" nor "5" strings (the web defaults read numbers from strings,
            // which typed every number as number-or-string in the OpenAPI document and as an object in generated
            // clients). A value that can be non-finite is written as null and documented so (JobMetrics.Loss).
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        services.AddSingleton<FailedAuthentications>();
        services.AddSingleton<Authenticator>();
        services.AddSingleton<WorkerSockets>();
        services.AddSingleton<OperatorCheck>();
        services.AddHuginnApiOperations(configuration);
        // JSON bodies stay small; blob uploads raise their own limit (BlobsApi).
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(k => k.Limits.MaxRequestBodySize = MaxJsonBodyBytes);
        services.AddHuginnOpenApi();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                    rejected.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
                await Results.Problem(title: "rate limited", detail: "too many requests for this key; slow down", statusCode: 429)
                    .ExecuteAsync(rejected.HttpContext);
            };
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value;
                // Per key (hashed, so the limiter never holds secrets), else per address.
                var secret = Authenticator.SecretOf(context);
                var partition = secret is null
                    ? $"ip:{context.Connection.RemoteIpAddress}"
                    : $"key:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)))}";
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = options.RequestBurst,
                    TokensPerPeriod = options.RequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
        });
        return services;
    }

    /// <summary>
    /// The Orleans client of a stand-alone Api, with the device streams: a localhost silo in the local default;
    /// with Huginn:Storage=postgres, the gateways listed in PostgreSQL's membership table (ConnectionStrings:Huginn,
    /// cluster Huginn:ClusterId) and the streams' PostgreSQL queues. Settings match the silo's (HuginnSiloExtensions).
    /// </summary>
    public static IHostApplicationBuilder AddHuginnClusterClient(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var postgres = string.Equals(configuration["Huginn:Storage"], "postgres", StringComparison.OrdinalIgnoreCase);
        var connectionString = configuration.GetConnectionString("Huginn");
        if (postgres && string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                "Huginn:Storage=postgres needs a connection string: set ConnectionStrings:Huginn (environment: ConnectionStrings__Huginn).");
        builder.UseOrleansClient(client =>
        {
            client.UseHuginnTls(configuration);
            // The trace context rides on grain calls only when both sides propagate it (the silo: AddHuginnSilo).
            if (PoolTracing.Enabled(configuration)) client.AddActivityPropagation();
            // The dashboard's pages call its grains on the silos, which must have it too (AddHuginnSilo).
            if (OrleansDashboardSettings.Enabled(configuration)) client.AddDashboard();
            if (!postgres)
            {
                // The local silo's gateway port (Huginn:GatewayPort, as the silo reads it; Orleans' default otherwise).
                client.UseLocalhostClustering(configuration.GetValue("Huginn:GatewayPort", 30000));
                // The same queues as the silo (HuginnSiloExtensions.AddHuginnStorage).
                client.AddMemoryStreams(DeviceStreams.Provider, streams =>
                    streams.ConfigurePartitioning(DeviceStreams.MemoryQueues(configuration[DeviceStreams.MemoryQueuesKey])));
                return;
            }
            client.Configure<Orleans.Configuration.ClusterOptions>(o =>
            {
                o.ClusterId = configuration["Huginn:ClusterId"] ?? "huginn";
                o.ServiceId = "huginn";
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
            client.AddAdoNetStreams(DeviceStreams.Provider, o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = connectionString;
            });
        });
        return builder;
    }

    public static WebApplication MapHuginnApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.UseRateLimiter();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.UseSwaggerUI(ui =>
        {
            ui.SwaggerEndpoint("/openapi/v1.json", "Huginn v1");
            ui.RoutePrefix = "docs";
            ui.DocumentTitle = "Huginn API";
        });
        app.MapHuginnApiOperations();
        app.MapHuginnDashboard();
        app.MapContributePage();
        app.MapAccountsApi();
        app.MapDeviceSelfApi();
        app.MapDevicesApi();
        app.MapBlobsApi();
        app.MapDatasetsApi();
        app.MapEstimatesApi();
        app.MapJobsApi().MapJobListApi();
        app.MapPoolApi();
        app.MapWorkerGateway();
        return app;
    }
}
