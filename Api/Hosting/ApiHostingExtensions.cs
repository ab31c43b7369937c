using System.Text.Json.Serialization;
using Huginn.Api.Access;
using Huginn.Api.Apis;
using Huginn.Api.Workers;
using Huginn.Grains.Interfaces.Devices;
using Microsoft.AspNetCore.Http.Json;

namespace Huginn.Api.Hosting;

/// <summary>The Api's wiring, shared by its own host, the local pool and the tests.</summary>
public static class ApiHostingExtensions
{
    /// <summary>Services of the Api; the Orleans client (or co-hosted silo) is configured by the host.</summary>
    public static IServiceCollection AddHuginnApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiOptions>().Bind(configuration.GetSection(ApiOptions.Section));
        services.AddProblemDetails();
        services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase));
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        services.AddSingleton<Authenticator>();
        return services;
    }

    /// <summary>The Orleans client of a stand-alone Api: localhost silo in the local default, with the device streams.</summary>
    public static IHostApplicationBuilder AddHuginnClusterClient(this IHostApplicationBuilder builder)
    {
        builder.UseOrleansClient(client =>
        {
            client.UseLocalhostClustering();
            client.AddMemoryStreams(DeviceStreams.Provider);
        });
        return builder;
    }

    public static WebApplication MapHuginnApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).WithTags("Operations").WithName("Health")
            .WithSummary("Liveness and readiness.");
        app.MapAccountsApi();
        app.MapDevicesApi();
        app.MapBlobsApi();
        app.MapJobsApi();
        app.MapWorkerGateway();
        return app;
    }
}
