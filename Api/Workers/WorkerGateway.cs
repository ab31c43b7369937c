using Huginn.Api.Access;
using Huginn.Api.Hosting;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Access;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Protocol;
using Microsoft.Extensions.Options;

namespace Huginn.Api.Workers;

/// <summary>
/// GET /v1/workers/connect: authenticates the device token before the upgrade (Authorization header) or, for browsers
/// that cannot set one, in the hello frame; then hands the socket to a <see cref="WorkerConnection"/>.
/// </summary>
public static class WorkerGateway
{
    public static IEndpointRouteBuilder MapWorkerGateway(this IEndpointRouteBuilder app)
    {
        app.Map("/v1/workers/connect", ConnectAsync).WithTags("Workers").WithName("ConnectWorker")
            .WithSummary("WebSocket for workers (protocol huginn.v1, docs/PROTOCOL.md); Bearer device token, or the token in the hello frame.");
        return app;
    }

    /// <summary>A device admitted to connect: its view, and the owner whose socket place it holds.</summary>
    public sealed record Admission(DeviceView? Device, IResult? Refusal, string? Reason);

    private static async Task ConnectAsync(HttpContext context, Authenticator authenticator, IClusterClient cluster, IBlobStore blobs,
        IOptions<ApiOptions> options, WorkerSockets sockets, ILoggerFactory loggers)
    {
        if (context.Request.Query.ContainsKey("token"))
        {
            // Refused rather than ignored, so that a client sending it learns why; request logs never show query strings
            // at the level they run by default (ApiHostingExtensions), but proxies in front may.
            await Problems.Invalid("token", "never goes in the URL; send 'Authorization: Bearer <deviceToken>' or the token in the hello frame")
                .ExecuteAsync(context);
            return;
        }
        Admission? admitted = null;
        if (Authenticator.SecretOf(context) is not null)
        {
            admitted = await AdmitAsync(context, await authenticator.AuthenticateAsync(context), cluster, sockets, options.Value);
            if (admitted.Refusal is not null)
            {
                await admitted.Refusal.ExecuteAsync(context);
                return;
            }
        }
        try
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                await Problems.Invalid("connection", "this endpoint speaks WebSocket only").ExecuteAsync(context);
                return;
            }
            var subProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(Frame.SubProtocol) ? Frame.SubProtocol : null;
            using var socket = await context.WebSockets.AcceptWebSocketAsync(subProtocol);
            // Without a header the token comes in the hello; admitted the same way, refused with a close code instead of a status.
            Func<string, Task<Admission>> admitByHello = async token =>
                admitted = await AdmitAsync(context, await authenticator.AuthenticateAsync(context, token), cluster, sockets, options.Value);
            var connection = new WorkerConnection(socket, admitted?.Device, admitByHello, cluster, blobs, options.Value, loggers.CreateLogger<WorkerConnection>());
            await connection.RunAsync(context.RequestAborted);
        }
        finally
        {
            if (admitted?.Device is { } device) sockets.Close(device.OwnerAccountId);
        }
    }

    /// <summary>A device token of a device that is not banned, whose owner has a socket place left here (taken now).</summary>
    private static async Task<Admission> AdmitAsync(HttpContext context, (Caller? Caller, IResult? Refusal) authenticated, IClusterClient cluster,
        WorkerSockets sockets, ApiOptions options)
    {
        var (caller, refusal) = authenticated;
        if (caller is null) return new(null, refusal, refusal is IStatusCodeHttpResult { StatusCode: 429 } ? "too many failed authentications" : "unauthorized");
        if (caller.Credential.Kind != CredentialKind.DeviceToken || caller.Credential.DeviceId is not { } deviceId)
            return new(null, Problems.Unauthorized(), "unauthorized: a device token is needed, not an account key");
        var device = await cluster.GetGrain<IDeviceGrain>(deviceId).GetAsync();
        if (device is null || device.Banned) return new(null, Problems.Forbidden("this device is banned"), "device banned");
        if (!sockets.TryOpen(device.OwnerAccountId, options.MaxSocketsPerOwner))
        {
            if (!context.Response.HasStarted) context.Response.Headers.RetryAfter = "30";
            var detail = $"this owner has {options.MaxSocketsPerOwner} worker sockets open here already (Huginn:Api:MaxSocketsPerOwner)";
            return new(null, Results.Problem(title: "quota exceeded", detail: detail, statusCode: StatusCodes.Status429TooManyRequests), "too many sockets of this owner");
        }
        return new(device, null, null);
    }
}
