using Huginn.Blobs;
using Huginn.Workloads;

namespace Huginn.Grains.Jobs;

/// <summary>
/// Everything a submission refuses that is knowable without money, in one place, run by both <c>POST /v1/jobs</c>
/// (JobGrain.SubmitAsync) and <c>POST /v1/estimates</c> (EstimatorGrain.EstimateForAsync): an estimate answers the same
/// field errors a submission would (issue 13, finding 5: "estimate prices specs that submit refuses"). The device-side
/// checks (a device online that can run it, two owners to audit it, bf16 hardware) follow in the estimator's pricing,
/// which both paths call next. The budget (maxHu against the escrow) is the submission's alone.
/// No side effects: nothing is stored, nothing is referenced.
/// </summary>
public static class SubmissionChecks
{
    public static async Task<IReadOnlyList<SpecError>> RunAsync(IGrainFactory grains, IBlobStore blobs, JobSpec spec, string clientAccountId)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = SpecValidator.Validate(spec);
        // Later checks read the model and the plan: they assume a spec that validates.
        if (errors.Count > 0) return errors;
        if (LargerThanTheStoreTakes(spec, blobs.MaxBlobBytes) is { } tooLarge) return [tooLarge];

        // The spec against a chunked dataset's facts (labels against outputSize, sample counts, format against kind:
        // DatasetChecks) runs before this, in the Api (DatasetSpecResolver, for estimate and submit alike), and again
        // in the job grain when it takes the dataset's chunks (DatasetInputs).
        return await JobInputs.CheckAsync(grains, blobs, spec, clientAccountId);
    }

    /// <summary>
    /// The spec's own cap is the widest any pool allows; this pool keeps no result larger than its blob store takes
    /// (<c>Huginn:Blobs:MaxBlobBytes</c>), so a job whose every result the edge would refuse is refused at submission.
    /// </summary>
    private static SpecError? LargerThanTheStoreTakes(JobSpec spec, long maxBlobBytes)
    {
        var plan = JobPlanner.Plan(spec);
        // The last shard of a round is the largest (the first ones take the remainder's shortfall).
        var resultBytes = OutputShape.ExpectedResultBytes(spec, plan.Shard(0, plan.ShardsPerRound - 1));
        if (resultBytes <= maxBlobBytes) return null;
        return new SpecError(spec.Kind == WorkloadKind.Train ? "model" : "shardsPerRound",
            $"a shard's result would be {resultBytes} bytes; this pool stores blobs of at most {maxBlobBytes} (Huginn:Blobs:MaxBlobBytes)");
    }
}
