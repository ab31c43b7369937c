using System.Globalization;

namespace Huginn.Workloads;

/// <summary>
/// What a job spec asks of a finalized dataset, checked against the facts finalize recorded: the format fits the
/// job's kind and model, rows have the model's shape, the labels are classes the model has, and there are enough
/// samples. The same checks run for an estimate and for a submission (and in the job grain), so that a spec the pool
/// prices is one it accepts, and a bad label is refused with its field and reason instead of failing on devices.
/// </summary>
public static class DatasetChecks
{
    /// <summary>Every problem of <paramref name="spec"/> with a dataset of these facts; empty when it can run on it.</summary>
    /// <remarks>Assumes the spec's model is valid (<see cref="SpecValidator"/>); says nothing about it otherwise.</remarks>
    public static IReadOnlyList<SpecError> Check(JobSpec spec, DatasetFacts facts)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(facts);
        var errors = new List<SpecError>();
        var m = spec.Model;
        if (m is null || !ModelRegistry.TryGet(m.Type, out var definition) || definition.Validate(m).Any()) return errors;
        var train = spec.Kind == WorkloadKind.Train;
        var layout = DatasetLayout.For(facts.Format, m, readTargets: train);

        if (train && !DatasetFormats.HasTargets(facts.Format))
            errors.Add(new SpecError("dataset.datasetId",
                $"is an \"{facts.Format}\" dataset (features only, no targets): it can feed infer or prep, not train; upload \"f32\" rows with their targets to train"));

        if (DatasetFormats.IsTokens(facts.Format)) CheckTokens(spec, m, facts, errors);
        else CheckRows(spec, m, definition, layout, facts, errors);
        if (errors.Count > 0) return errors;

        var available = layout.SampleCount(facts.TotalBytes);
        if (available < 1)
            errors.Add(new SpecError("dataset.datasetId", $"holds no whole sample for this model ({layout.Describe()}; {facts.TotalBytes} bytes)"));
        else if (spec.Dataset.Samples > available)
            errors.Add(new SpecError("dataset.samples",
                $"asks for {spec.Dataset.Samples} samples; the dataset holds {available} ({layout.Describe()}); give 0 or leave it out to use them all"));
        return errors;
    }

    /// <summary>
    /// The spec as the pool runs it: the dataset's format, and its sample count when the spec gives none (0), so that
    /// planning and pricing see the real size. Call after <see cref="Check"/> found nothing.
    /// </summary>
    public static JobSpec Resolve(JobSpec spec, DatasetFacts facts)
    {
        var layout = DatasetLayout.For(facts.Format, spec.Model!, readTargets: spec.Kind == WorkloadKind.Train);
        var samples = spec.Dataset.Samples > 0 ? spec.Dataset.Samples : layout.SampleCount(facts.TotalBytes);
        return spec with { Dataset = spec.Dataset with { Format = facts.Format, Samples = samples } };
    }

    private static void CheckRows(JobSpec spec, ModelSpec m, IModelDefinition definition, DatasetLayout layout, DatasetFacts facts, List<SpecError> errors)
    {
        if (facts.FeaturesPerRow != layout.FeaturesPerSample)
        {
            errors.Add(new SpecError("dataset.datasetId",
                $"holds rows of {facts.FeaturesPerRow} features; this model reads {layout.FeaturesPerSample} per sample ({layout.Describe()})"));
            return;
        }
        if (facts.Format == DatasetFormats.F32 && facts.TargetsPerRow != definition.TargetsPerSample(m))
        {
            errors.Add(new SpecError("dataset.datasetId",
                $"holds rows with {facts.TargetsPerRow} target column(s); this model's rows have {definition.TargetsPerSample(m)} " +
                $"({(m.Loss == ModelSpec.CrossEntropy ? "cross_entropy: one class index" : $"mse: one per output, {m.OutputSize}")}), as {layout.Describe()}"));
            return;
        }
        if (spec.Kind == WorkloadKind.Train && facts.Format == DatasetFormats.F32 && m.Loss == ModelSpec.CrossEntropy)
            CheckClasses(facts, m.OutputSize, "labels", errors);
    }

    private static void CheckTokens(JobSpec spec, ModelSpec m, DatasetFacts facts, List<SpecError> errors)
    {
        if (m.Type != ModelSpec.Transformer)
        {
            errors.Add(new SpecError("model.type",
                $"a \"{facts.Format}\" dataset is a stream of token ids: it feeds a transformer (sequenceLength tokens per sample), not an {m.Type}"));
            return;
        }
        if (facts.Rows > 0 && facts.TargetMax >= m.VocabSize)
            errors.Add(new SpecError("model.vocabSize",
                $"is {m.VocabSize}, but the dataset holds token id {Number(facts.TargetMax)}: vocabSize must be at least {Number(facts.TargetMax + 1)}"));
        if (spec.Kind != WorkloadKind.Train) return;
        if (m.Loss != ModelSpec.CrossEntropy)
        {
            errors.Add(new SpecError("model.loss",
                "training on a token stream predicts the next token, a class: use \"cross_entropy\" with outputSize = vocabSize"));
            return;
        }
        CheckClasses(facts, m.OutputSize, "next-token targets (token ids)", errors);
    }

    /// <summary>cross_entropy takes class indices 0 … outputSize − 1: whole numbers, none negative, none at or past outputSize.</summary>
    private static void CheckClasses(DatasetFacts facts, int outputSize, string what, List<SpecError> errors)
    {
        if (facts.Rows == 0 || double.IsNaN(facts.TargetMax)) return;
        if (!facts.TargetsAreIntegers)
            errors.Add(new SpecError("model.loss",
                $"cross_entropy needs class indices, but the dataset's {what} are not all whole numbers (they range from {Number(facts.TargetMin)} to {Number(facts.TargetMax)}); use \"mse\" for continuous targets"));
        else if (facts.TargetMin < 0)
            errors.Add(new SpecError("dataset.datasetId", $"holds a negative class index ({Number(facts.TargetMin)}) in its {what}; classes start at 0"));
        else if (facts.TargetMax >= outputSize)
            errors.Add(new SpecError("model.outputSize",
                $"is {outputSize}, so cross_entropy takes classes 0 to {outputSize - 1}; the dataset's {what} reach {Number(facts.TargetMax)}: outputSize must be at least {Number(facts.TargetMax + 1)}"));
    }

    private static string Number(double value) => value.ToString("G9", CultureInfo.InvariantCulture);
}
