using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Pool;

/// <summary>
/// Prices a spec against the pool as it is now: the same spec and pool state always give the same estimate.
/// A stateless worker, so the Api and every job grain can ask it without a hot spot.
/// </summary>
[Alias("huginn.IEstimatorGrain")]
public interface IEstimatorGrain : IGrainWithIntegerKey
{
    /// <summary>The cost, expected wall time and any reason the spec cannot run on the devices online.</summary>
    [Alias("estimate")]
    Task<JobEstimate> EstimateAsync(JobSpec spec);

    /// <summary>
    /// The estimate for this client after every check a submission runs without money (Grains/Jobs/SubmissionChecks:
    /// spec, inputs, weightsFromJobId ownership…): refused with the same field errors as <c>POST /v1/jobs</c> would be.
    /// </summary>
    [Alias("estimate-for")]
    Task<JobEstimate> EstimateForAsync(string clientAccountId, JobSpec spec);

    /// <summary>Capacity online and the queue, for GET /v1/pool.</summary>
    [Alias("overview")]
    Task<PoolOverview> OverviewAsync();
}
