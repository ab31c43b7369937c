using Huginn.Grains.Interfaces.Datasets;
using Huginn.Workloads;

namespace Huginn.Api.Apis;

/// <summary>
/// The data half of the submission-time checks, shared by <c>POST /v1/estimates</c> and <c>POST /v1/jobs</c> (issue
/// 13, finding 5): a spec naming a dataset is checked against the facts its finalize recorded
/// (<see cref="DatasetChecks"/>: format vs kind and model, label range vs outputSize, sample count), and comes back
/// with the dataset's format and sample count filled in, so that the spec-only checks (<see cref="SpecValidator"/>)
/// and the price see the real size. A spec without a dataset comes back as it is.
/// </summary>
public static class DatasetSpecResolver
{
    public static async Task<(JobSpec Spec, IReadOnlyList<SpecError> Errors)> ResolveAsync(JobSpec spec, string accountId, IGrainFactory grains)
    {
        // Whatever cannot be resolved (no dataset, a spec that also names a blob, a model that is not valid) is left to
        // SpecValidator, which says what is wrong with it by field.
        if (spec.Dataset?.DatasetId is not { Length: > 0 and <= 100 } datasetId || spec.Dataset.BlobId is not null || spec.Dataset.Synthetic is not null)
            return (spec, []);
        if (spec.Model is not { } m || !ModelRegistry.TryGet(m.Type, out var definition) || definition.Validate(m).Any()) return (spec, []);

        var view = await grains.GetGrain<IDatasetGrain>(datasetId).GetAsync();
        if (DatasetAccess.Unusable(view, accountId) is { } unusable) return (spec, [unusable]);
        var errors = DatasetChecks.Check(spec, view!.Facts!);
        return errors.Count > 0 ? (spec, errors) : (DatasetChecks.Resolve(spec, view.Facts!), errors);
    }
}
