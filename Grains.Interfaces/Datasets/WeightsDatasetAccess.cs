using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Datasets;

/// <summary>
/// Who may start a job from a dataset of weights (<c>spec.weights.datasetId</c>): its owner, once it is finalized, when
/// it holds weights (<see cref="DatasetFormats.IsWeights"/>). The structural half of the check, run by an estimate and
/// by a submission alike; the submission then reads the file and checks its tensors against the model.
/// </summary>
public static class WeightsDatasetAccess
{
    public const string Field = "weights.datasetId";

    /// <summary>Why a job of <paramref name="ownerAccountId"/> may not take its weights from this dataset, or null when it may.</summary>
    public static SpecError? Unusable(DatasetView? view, string ownerAccountId)
    {
        if (view is null || view.Declaration.OwnerAccountId != ownerAccountId)
            return new SpecError(Field, "no dataset of yours with this id (POST /v1/datasets, format \"safetensors\")");
        if (!DatasetFormats.IsWeights(view.Declaration.Format))
            return new SpecError(Field,
                $"is an \"{view.Declaration.Format}\" dataset of samples, not weights: upload the weights file as a \"{DatasetFormats.Safetensors}\" dataset");
        if (view.Status != DatasetStatus.Ready || view.Facts is null)
            return new SpecError(Field,
                $"is not finalized ({view.MissingChunks.Length} of {view.ChunkIds.Length} chunks missing): upload them and finalize it first (POST /v1/datasets/{view.DatasetId}/finalize)");
        return null;
    }
}
