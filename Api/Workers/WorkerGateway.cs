using Huginn.Api.Access;
using Huginn.Api.Hosting;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Access;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Protocol;
using Microsoft.Extensions.Options;

namespace Huginn.Api.Workers;

/// <summary>GET /v1/workers/connect: authenticates the device token before the upgrade, then hands the socket to a <see cref="WorkerConnection"/>.</summary>
public static class WorkerGateway
{
    public static IEndpointRouteBuilder MapWorkerGateway(this IEndpointRouteBuilder app)
    {
        app.Map("/v1/workers/connect", ConnectAsync).WithTags("Workers").WithName("ConnectWorker")
            .WithSummary("WebSocket for workers (protocol huginn.v1, docs/PROTOCOL.md); Bearer device token or ?token=.");
        return app;
    }

    private static async Task ConnectAsync(HttpContext context, Authenticator authenticator, IClusterClient cluster, IBlobStore blobs,
        IOptions<ApiOptions> options, ILoggerFactory loggers)
    {
        var caller = await authenticator.AuthenticateAsync(context, allowQueryToken: true);
        if (caller is null || caller.Credential.Kind != CredentialKind.DeviceToken || caller.Credential.DeviceId is not { } deviceId)
        {
            await Problems.Unauthorized().ExecuteAsync(context);
            return;
        }
        var device = await cluster.GetGrain<IDeviceGrain>(deviceId).GetAsync();
        if (device is null || device.Banned)
        {
            await Problems.Forbidden("this device is banned").ExecuteAsync(context);
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Problems.Invalid("connection", "this endpoint speaks WebSocket only").ExecuteAsync(context);
            return;
        }

        var subProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(Frame.SubProtocol) ? Frame.SubProtocol : null;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(subProtocol);
        var connection = new WorkerConnection(socket, device, cluster, blobs, options.Value, loggers.CreateLogger<WorkerConnection>());
        await connection.RunAsync(context.RequestAborted);
    }
}
