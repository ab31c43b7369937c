using System.Globalization;

namespace Huginn.Workloads;

/// <summary>The checks of <see cref="JobSpec.Validation"/>, run by <see cref="SpecValidator"/>; errors name <c>validation.…</c> fields.</summary>
internal static class ValidationChecks
{
    public static void Validate(JobSpec spec, long samples, List<SpecError> errors)
    {
        if (spec.Validation is not { } validation) return;
        if (spec.Kind != WorkloadKind.Train)
        {
            errors.Add(new SpecError("validation", "only a train job has a validation split"));
            return;
        }
        if (validation.Dataset is { } dataset && !ValidateDataset(dataset, errors)) return;
        // Without a known sample count (the dataset's own error is reported) or shard count, the split cannot be made.
        if (samples <= 0 || spec.ShardsPerRound is < 1 or > SpecValidator.MaxShardsPerRound) return;
        var (split, splitErrors) = ValidationSplit.Of(validation, samples, spec.ShardsPerRound);
        errors.AddRange(splitErrors);
        if (split is null) return;
        if (split.ValidationRows > int.MaxValue)
        {
            errors.Add(new SpecError(validation.Fraction is null ? "validation.dataset.samples" : "validation.fraction",
                $"an evaluation covers at most {int.MaxValue} rows"));
            return;
        }
        if (spec.Model is { } m && ModelRegistry.TryGet(m.Type, out var definition))
        {
            var flops = (double)split.ValidationRows * definition.ForwardFlopsPerSample(m);
            if (flops > SpecValidator.MaxFlopsPerShard)
            {
                errors.Add(new SpecError(validation.Fraction is null ? "validation.dataset.samples" : "validation.fraction",
                    $"an evaluation would cost {flops.ToString("E2", CultureInfo.InvariantCulture)} FLOPs; at most {SpecValidator.MaxFlopsPerShard.ToString("E0", CultureInfo.InvariantCulture)}"));
            }
        }
    }

    /// <summary>A separate validation dataset: a blob or a synthetic generator, in the training set's f32 layout.</summary>
    private static bool ValidateDataset(DatasetSpec dataset, List<SpecError> errors)
    {
        var before = errors.Count;
        if ((dataset.BlobId is null) == (dataset.Synthetic is null))
        {
            errors.Add(new SpecError("validation.dataset", "needs exactly one of blobId or synthetic"));
            return false;
        }
        if (dataset.Format != DatasetSpec.F32) errors.Add(new SpecError("validation.dataset.format", $"must be \"{DatasetSpec.F32}\""));
        if (dataset.Synthetic is { } synthetic)
        {
            if (synthetic.Kind is not (SyntheticDatasetSpec.Teacher or SyntheticDatasetSpec.Blobs))
                errors.Add(new SpecError("validation.dataset.synthetic.kind", $"must be one of: {SyntheticDatasetSpec.Teacher}, {SyntheticDatasetSpec.Blobs}"));
            if (synthetic.Samples is < 1 or > SpecValidator.MaxSamples)
                errors.Add(new SpecError("validation.dataset.synthetic.samples", $"must be between 1 and {SpecValidator.MaxSamples}"));
            if (!double.IsFinite(synthetic.Noise) || synthetic.Noise < 0)
                errors.Add(new SpecError("validation.dataset.synthetic.noise", "must be a finite number, 0 or more"));
        }
        else
        {
            if (!SpecValidator.IsBlobId(dataset.BlobId)) errors.Add(new SpecError("validation.dataset.blobId", "must be a lowercase hex sha256 (64 characters)"));
            if (dataset.Samples is < 1 or > SpecValidator.MaxSamples)
                errors.Add(new SpecError("validation.dataset.samples", $"must be between 1 and {SpecValidator.MaxSamples}"));
        }
        return errors.Count == before;
    }
}
