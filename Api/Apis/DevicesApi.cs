using Huginn.Api.Access;
using Huginn.Api.Hosting;
using Microsoft.Extensions.Options;
using Huginn.Grains.Interfaces.Access;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Protocol;
using Huginn.Workloads;

namespace Huginn.Api.Apis;

public sealed record RegisterDeviceRequest(string? Name, DeviceCapabilitiesDto? Capabilities);
public sealed record RegisterDeviceResponse(string DeviceId, string DeviceToken);
public sealed record DeviceResponse(
    string DeviceId, string Name, DeviceCapabilitiesDto Capabilities, string HardwareClass, string Status,
    double Reputation, double AuditRate, int Verified, int Invalid, int Unaudited, int Expired, bool Banned,
    decimal EarnedHu, decimal PendingHu, int OpenLeases, DateTimeOffset? LastHeartbeat,
    double? ObservedGflops, int SpeedSamples, double EffectiveGflops);

public static class DevicesApi
{
    public static RouteGroupBuilder MapDevicesApi(this IEndpointRouteBuilder app)
    {
        var devices = app.MapGroup("/v1/devices").WithTags("Devices").RequireAccount();
        devices.MapPost("/", RegisterAsync).WithName("RegisterDevice").WithSummary("Registers a device of the calling contributor and shows its token once.")
            .Produces<RegisterDeviceResponse>(StatusCodes.Status201Created)
            .WithRequestExample("""{ "name": "rig-1", "capabilities": { "kind": "gpu", "gpuName": "RTX 4090", "vramMb": 24564, "gflops": 82000, "cpuCores": 16, "memoryMb": 65536, "runtimes": ["torchsharp-cuda"], "slots": 1 } }""");
        devices.MapGet("/{deviceId}", GetAsync).WithName("GetDevice").WithSummary("A device's profile, standing and earnings (owner only).")
            .Produces<DeviceResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        devices.MapPost("/{deviceId}/token", RotateTokenAsync).WithName("RotateDeviceToken")
            .WithSummary("Issues a new token for the device and revokes its previous one (owner only); the new token is shown once.")
            .Produces<RegisterDeviceResponse>().ProducesProblem(StatusCodes.Status404NotFound);
        devices.MapDelete("/{deviceId}/token", RevokeTokenAsync).WithName("RevokeDeviceToken")
            .WithSummary("Revokes the device's token (owner only): it connects again only with a token from a rotation.")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        return devices;
    }

    public static DeviceCapabilities? ToCapabilities(DeviceCapabilitiesDto? dto, out SpecError? error)
    {
        error = null;
        if (dto is null)
        {
            error = new SpecError("capabilities", "is required");
            return null;
        }
        var kind = HardwareClass.ParseKind(dto.Kind);
        if (kind is null)
        {
            error = new SpecError("capabilities.kind", "must be one of 'gpu', 'cpu', 'browser'");
            return null;
        }
        return new DeviceCapabilities
        {
            Kind = kind.Value,
            GpuName = dto.GpuName,
            VramMb = dto.VramMb ?? 0,
            Gflops = dto.Gflops,
            CpuCores = dto.CpuCores,
            MemoryMb = dto.MemoryMb,
            Runtimes = dto.Runtimes ?? [],
            Slots = dto.Slots ?? 1,
        };
    }

    private static async Task<IResult> RegisterAsync(RegisterDeviceRequest request, HttpContext context, IGrainFactory grains, IOptions<ApiOptions> options)
    {
        var caller = context.Caller();
        if (caller.Role != "contributor") return Problems.Forbidden("only contributor accounts register devices");
        var capabilities = ToCapabilities(request.Capabilities, out var error);
        if (capabilities is null) return Problems.Invalid([error!]);

        if (request.Name is { Length: > 100 }) return Problems.Invalid("name", "must be at most 100 characters");

        var deviceId = $"dev_{Guid.NewGuid():N}";
        // A place first, so that concurrent registrations cannot pass the limit together (finding 6: 200 devices in 5 s).
        var holdings = grains.GetGrain<IOwnerHoldingsGrain>(caller.AccountId);
        var max = options.Value.MaxDevicesPerOwner;
        if (!await holdings.TryAddDeviceAsync(deviceId, max))
            return Problems.QuotaExceeded($"this account has registered {max} devices, its limit (Huginn:Api:MaxDevicesPerOwner)");
        var result = await grains.GetGrain<IDeviceGrain>(deviceId).RegisterAsync(new DeviceRegistration(caller.AccountId, request.Name ?? "", capabilities));
        if (!result.Succeeded)
        {
            await holdings.RemoveDeviceAsync(deviceId);
            return Problems.Invalid(result.Errors);
        }
        return Results.Created($"/v1/devices/{deviceId}", new RegisterDeviceResponse(deviceId, await IssueTokenAsync(caller.AccountId, deviceId, grains)));
    }

    /// <summary>A new token for the device; the one it replaces (when known) is revoked.</summary>
    private static async Task<string> IssueTokenAsync(string ownerAccountId, string deviceId, IGrainFactory grains)
    {
        var token = Credentials.NewSecret(CredentialKind.DeviceToken);
        var key = Credentials.GrainKey(CredentialKind.DeviceToken, token);
        await grains.GetGrain<ICredentialGrain>(key).IssueAsync(new Credential(CredentialKind.DeviceToken, ownerAccountId, "device", deviceId));
        var previous = await grains.GetGrain<IOwnerHoldingsGrain>(ownerAccountId).ReplaceDeviceTokenAsync(deviceId, key);
        if (previous is not null && previous != key) await grains.GetGrain<ICredentialGrain>(previous).RevokeAsync();
        return token;
    }

    private static async Task<IResult> RotateTokenAsync(string deviceId, HttpContext context, IGrainFactory grains, IClusterClient cluster)
    {
        var (_, problem) = await OwnedDeviceAsync(deviceId, context, grains);
        if (problem is not null) return problem;
        var token = await IssueTokenAsync(context.Caller().AccountId, deviceId, grains);
        await DisconnectAsync(deviceId, cluster);
        return Results.Ok(new RegisterDeviceResponse(deviceId, token));
    }

    private static async Task<IResult> RevokeTokenAsync(string deviceId, HttpContext context, IGrainFactory grains, IClusterClient cluster)
    {
        var (_, problem) = await OwnedDeviceAsync(deviceId, context, grains);
        if (problem is not null) return problem;
        var previous = await grains.GetGrain<IOwnerHoldingsGrain>(context.Caller().AccountId).ReplaceDeviceTokenAsync(deviceId, null);
        if (previous is not null) await grains.GetGrain<ICredentialGrain>(previous).RevokeAsync();
        await DisconnectAsync(deviceId, cluster);
        return Results.NoContent();
    }

    /// <summary>A connection opened with the old token closes now, on whichever Api instance holds it (the device's stream).</summary>
    private static Task DisconnectAsync(string deviceId, IClusterClient cluster) =>
        cluster.GetStreamProvider(DeviceStreams.Provider).GetStream<DeviceCommand>(DeviceStreams.For(deviceId)).OnNextAsync(new DeviceTokenRevoked());

    private static async Task<(DeviceView? Device, IResult? Problem)> OwnedDeviceAsync(string deviceId, HttpContext context, IGrainFactory grains)
    {
        var device = await grains.GetGrain<IDeviceGrain>(deviceId).GetAsync();
        if (device is null) return (null, Problems.NotFound("device"));
        if (device.OwnerAccountId != context.Caller().AccountId) return (null, Problems.Forbidden("this device belongs to another owner"));
        return (device, null);
    }

    private static async Task<IResult> GetAsync(string deviceId, HttpContext context, IGrainFactory grains)
    {
        var (device, problem) = await OwnedDeviceAsync(deviceId, context, grains);
        if (device is null) return problem!;
        var earnings = (await grains.GetGrain<IAccountGrain>(device.OwnerAccountId).GetAsync()).Devices.GetValueOrDefault(deviceId);
        return Results.Ok(Describe(device, earnings));
    }

    public static DeviceResponse Describe(DeviceView device, DeviceEarnings? earnings)
    {
        var c = device.Capabilities;
        return new DeviceResponse(device.DeviceId, device.Name,
            new DeviceCapabilitiesDto(HardwareClass.Kind(c.Kind), c.GpuName, c.VramMb, c.Gflops, c.CpuCores, c.MemoryMb, c.Runtimes, c.Slots),
            device.HardwareClass, device.Status.ToString().ToLowerInvariant(), device.Reputation, device.AuditRate,
            device.Record.Verified, device.Record.Invalid, device.Record.Unaudited, device.Record.Expired, device.Banned,
            MicroHu.ToHu(earnings?.EarnedMicroHu ?? 0), MicroHu.ToHu(earnings?.PendingMicroHu ?? 0), device.OpenLeases, device.LastHeartbeat,
            device.Speed.Samples == 0 ? null : Math.Round(device.Speed.Gflops, 1), device.Speed.Samples, Math.Round(device.EffectiveGflops, 1));
    }
}
