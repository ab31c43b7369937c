using Huginn.Api.Access;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Workloads;

namespace Huginn.Api.Apis;

/// <summary>The owner's balances as a device may see them: what its contributor can spend, and what waits on audits.</summary>
public sealed record DeviceOwnerBalances(decimal BalanceHu, decimal PendingHu, decimal EarnedHu);

public sealed record DeviceSelfResponse(DeviceResponse Device, DeviceOwnerBalances Account);

/// <summary>
/// GET /v1/devices/me: a device's own standing, by its device token. The browser page keeps only the device token (the
/// contributor key is used once, to register), so it reads its figures here rather than from the account endpoints.
/// </summary>
public static class DeviceSelfApi
{
    public static RouteGroupBuilder MapDeviceSelfApi(this IEndpointRouteBuilder app)
    {
        var me = app.MapGroup("/v1/devices/me").WithTags("Devices").RequireCaller();
        me.MapGet("/", GetAsync).WithName("GetOwnDevice")
            .WithSummary("The calling device's profile, standing and earnings, and its owner's balances (device token only).")
            .Produces<DeviceSelfResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        return me;
    }

    private static async Task<IResult> GetAsync(HttpContext context, IGrainFactory grains)
    {
        var caller = context.Caller();
        if (!caller.IsDevice || caller.Credential.DeviceId is not { } deviceId)
            return Problems.Forbidden("this endpoint answers a device token; an account reads its devices at /v1/devices/{deviceId}");
        var device = await grains.GetGrain<IDeviceGrain>(deviceId).GetAsync();
        if (device is null) return Problems.NotFound("device");
        var account = await grains.GetGrain<IAccountGrain>(device.OwnerAccountId).GetAsync();
        return Results.Ok(new DeviceSelfResponse(
            DevicesApi.Describe(device, account.Devices.GetValueOrDefault(deviceId)),
            new DeviceOwnerBalances(MicroHu.ToHu(account.AvailableMicroHu), MicroHu.ToHu(account.PendingMicroHu), MicroHu.ToHu(account.EarnedMicroHu))));
    }
}
