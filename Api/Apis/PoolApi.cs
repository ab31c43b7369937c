using Huginn.Grains.Interfaces.Pool;

namespace Huginn.Api.Apis;

public sealed record PoolResponse(
    int DevicesOnline, IReadOnlyDictionary<string, int> ByKind, double GflopsOnline, long ShardsQueued, int JobsRunning,
    decimal HuPriceEur, double MeanAuditRate);

public static class PoolApi
{
    public static IEndpointRouteBuilder MapPoolApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/pool").WithTags("Pool").RequireCallerGroup()
            .MapGet("/", async (IGrainFactory grains) =>
            {
                var pool = await grains.GetGrain<IEstimatorGrain>(0).OverviewAsync();
                return Results.Ok(new PoolResponse(pool.DevicesOnline, pool.DevicesByKind, pool.GflopsOnline, pool.Load.ShardsQueued,
                    pool.Load.JobsRunning, pool.HuPriceEur, pool.MeanAuditRate));
            })
            .WithName("GetPool").WithSummary("Devices and GFLOP/s online, the queue, and the price of HU.").Produces<PoolResponse>();
        return app;
    }

    private static RouteGroupBuilder RequireCallerGroup(this RouteGroupBuilder group) => Access.CallerExtensions.RequireCaller(group);
}
