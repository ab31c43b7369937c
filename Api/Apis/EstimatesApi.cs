using Huginn.Api.Hosting;
using Huginn.Api.Access;
using Huginn.Grains.Interfaces.Pool;
using Huginn.Workloads;

namespace Huginn.Api.Apis;

public static class EstimatesApi
{
    public static RouteGroupBuilder MapEstimatesApi(this IEndpointRouteBuilder app)
    {
        var estimates = app.MapGroup("/v1/estimates").WithTags("Jobs").RequireAccount();
        estimates.MapPost("/", EstimateAsync).WithName("EstimateJob")
            .WithSummary("Prices a job spec against the pool as it is now: HU, €, shards, audit overhead, fee, expected wall time.")
            .Produces<EstimateResponse>().WithRequestExample(JobsApi.SpecExample);
        return estimates;
    }

    private static async Task<IResult> EstimateAsync(JobSpec? spec, HttpContext context, IGrainFactory grains)
    {
        if (context.Caller().Role != "client") return Problems.Forbidden("only client accounts estimate and submit jobs; a contributor account runs devices");
        if (spec is null) return Problems.Invalid("spec", "is required");
        // Dataset facts first (labels vs outputSize, sample counts, format vs kind), as a submission does.
        (spec, var datasetErrors) = await DatasetSpecResolver.ResolveAsync(spec, context.Caller().AccountId, grains);
        if (datasetErrors.Count > 0) return Problems.Invalid(datasetErrors);
        // The checks a submission runs, through the same path (Grains/Jobs/SubmissionChecks): same spec, same answer.
        var estimate = await grains.GetGrain<IEstimatorGrain>(0).EstimateForAsync(context.Caller().AccountId, spec);
        return estimate.CanRun ? Results.Ok(JobsApi.Describe(estimate.Cost!, estimate.EtaSeconds, estimate.EurPerHu)) : Problems.Invalid(estimate.Errors);
    }
}
