using System.Globalization;

namespace Huginn.Workloads;

/// <summary>
/// Says whether a <see cref="JobSpec"/> can run, as a list of problems naming camelCase JSON fields
/// ("model.hiddenSizes[1]", "rounds"). The caps keep every figure far from overflow and every shard result
/// within <see cref="MaxShardOutputBytes"/>; they are limits of this pool, not of the models.
/// </summary>
public static class SpecValidator
{
    public const int MaxRounds = 10_000;
    public const int MaxShardsPerRound = 100_000;
    /// <summary>
    /// Longer local runs let honest ReLU results drift apart past any tolerance that still catches a lazy
    /// device (docs/VERIFICATION.md: jumps seen at 300 steps, none at 100 or fewer). More work per round
    /// comes from more shards, not longer ones.
    /// </summary>
    public const int MaxLocalSteps = 100;
    public const int MaxBatchSize = 65_536;
    public const long MaxSamples = 1L << 40;
    /// <summary>A train shard's result is a weight delta: 2^28 float32 parameters fill <see cref="MaxShardOutputBytes"/>.</summary>
    public const long MaxParameters = 1L << 28;
    /// <summary>
    /// The largest result a shard may return (weight delta, outputs or prepared bytes) in any pool: 1 GiB, far below
    /// the 2 GiB a worker's array may hold. A result larger than a frame goes up as a blob, so what a given pool takes
    /// is its blob store's <c>Huginn:Blobs:MaxBlobBytes</c> (64 MiB for the memory store, 1 GiB for the directory and PostgreSQL stores, by default), checked when a job is submitted.
    /// </summary>
    public const long MaxShardOutputBytes = 1L << 30;
    public const double MaxFlopsPerShard = 1e18;
    public const double MaxJobFlops = 1e21;
    /// <summary>No device in the pool has more memory than this (1 TiB).</summary>
    public const long MaxShardMemoryMb = 1L << 20;

    private static readonly string[] SyntheticKinds = [SyntheticDatasetSpec.Teacher, SyntheticDatasetSpec.Blobs];
    private static readonly string[] PrepOperationNames = [PrepSpec.QuantizeInt8];

    /// <summary>Every problem found, in field order; empty when the spec can run.</summary>
    public static IReadOnlyList<SpecError> Validate(JobSpec spec)
    {
        var errors = new List<SpecError>();
        if (spec is null)
        {
            errors.Add(new SpecError("", "a job spec is required"));
            return errors;
        }

        if (!Enum.IsDefined(spec.Kind)) errors.Add(new SpecError("kind", "must be \"train\", \"infer\" or \"prep\""));
        var definition = ValidateModel(spec, errors);
        var samples = ValidateDataset(spec, definition, errors);
        ValidateRun(spec, samples, errors);
        ValidatePrep(spec, errors);
        if (spec.WeightsBlobId is not null)
        {
            if (spec.Kind == WorkloadKind.Prep) errors.Add(new SpecError("weightsBlobId", "a prep job has no weights"));
            else if (!IsBlobId(spec.WeightsBlobId)) errors.Add(new SpecError("weightsBlobId", "must be a lowercase hex sha256 (64 characters)"));
        }
        if (spec.WeightsFromJobId is not null)
        {
            if (spec.Kind == WorkloadKind.Prep) errors.Add(new SpecError("weightsFromJobId", "a prep job has no weights"));
            else if (spec.WeightsBlobId is not null) errors.Add(new SpecError("weightsFromJobId", "give weightsBlobId or weightsFromJobId, not both"));
            else if (string.IsNullOrWhiteSpace(spec.WeightsFromJobId) || spec.WeightsFromJobId.Length > 100)
                errors.Add(new SpecError("weightsFromJobId", "must be a job id"));
        }
        WeightsSpec.Validate(spec, errors);
        ValidationChecks.Validate(spec, samples, errors);
        if (!NumericPrecision.IsKnown(spec.Precision))
            errors.Add(new SpecError("precision", $"must be \"{NumericPrecision.Fp32}\" or \"{NumericPrecision.Bf16}\""));
        else if (spec.Kind == WorkloadKind.Prep && spec.Precision != NumericPrecision.Fp32)
            errors.Add(new SpecError("precision", "a prep job computes no model: only \"fp32\""));
        if (errors.Count == 0) ValidateCost(spec, definition!, samples, errors);
        return errors;
    }

    /// <summary>Whether a string is a blob id: 64 lowercase hex characters.</summary>
    public static bool IsBlobId(string? value) =>
        value is { Length: 64 } && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    private static IModelDefinition? ValidateModel(JobSpec spec, List<SpecError> errors)
    {
        var m = spec.Model;
        if (m is null)
        {
            errors.Add(new SpecError("model", spec.Kind == WorkloadKind.Prep
                ? "a prep job needs a model to give the shape of its rows (features and targets per sample)"
                : "is required"));
            return null;
        }
        if (!ModelRegistry.TryGet(m.Type, out var definition))
        {
            errors.Add(new SpecError("model.type", $"must be one of: {string.Join(", ", ModelRegistry.Types)}"));
            return null;
        }
        var modelErrors = definition.Validate(m).ToList();
        errors.AddRange(modelErrors);
        if (modelErrors.Count > 0) return null;

        var parameters = definition.ParameterCount(m);
        if (parameters > MaxParameters)
        {
            errors.Add(new SpecError("model", $"has {parameters} parameters; the pool runs models of at most {MaxParameters}"));
            return null;
        }
        return definition;
    }

    /// <summary>The dataset's sample count, or 0 when it is not known.</summary>
    private static long ValidateDataset(JobSpec spec, IModelDefinition? definition, List<SpecError> errors)
    {
        var dataset = spec.Dataset;
        if (dataset is null)
        {
            errors.Add(new SpecError("dataset", "is required"));
            return 0;
        }
        var hasBlob = dataset.BlobId is not null;
        var synthetic = dataset.Synthetic;
        var sources = (hasBlob ? 1 : 0) + (synthetic is not null ? 1 : 0) + (dataset.DatasetId is not null ? 1 : 0);
        if (sources != 1)
        {
            errors.Add(new SpecError("dataset", "needs exactly one of datasetId, blobId or synthetic"));
            return 0;
        }
        if (dataset.DatasetId is not null) return ValidateDatasetId(dataset, errors);
        if (dataset.Format is not (DatasetSpec.F32 or DatasetFormats.F32Features))
            errors.Add(new SpecError("dataset.format", $"must be \"{DatasetSpec.F32}\" or \"{DatasetFormats.F32Features}\" (rows without targets, for infer and prep)"));
        else if (dataset.Format == DatasetFormats.F32Features && spec.Kind == WorkloadKind.Train)
            errors.Add(new SpecError("dataset.format", "\"f32-features\" rows have no targets to train on; use \"f32\""));

        if (synthetic is null)
        {
            if (!IsBlobId(dataset.BlobId)) errors.Add(new SpecError("dataset.blobId", "must be a lowercase hex sha256 (64 characters)"));
            return CheckSamples(errors, "dataset.samples", dataset.Samples);
        }

        if (!SyntheticKinds.Contains(synthetic.Kind))
            errors.Add(new SpecError("dataset.synthetic.kind", $"must be one of: {string.Join(", ", SyntheticKinds)}"));
        var samples = CheckSamples(errors, "dataset.synthetic.samples", synthetic.Samples);
        if (!double.IsFinite(synthetic.Noise) || synthetic.Noise < 0)
            errors.Add(new SpecError("dataset.synthetic.noise", "must be a finite number, 0 or more"));
        if (dataset.Samples != 0 && dataset.Samples != synthetic.Samples)
            errors.Add(new SpecError("dataset.samples", "must be 0 or equal to synthetic.samples"));

        var m = spec.Model;
        if (definition is not null && m is not null && synthetic.Kind == SyntheticDatasetSpec.Blobs)
        {
            if (m.OutputSize < 2) errors.Add(new SpecError("model.outputSize", "blobs need at least 2 classes"));
            if (m.Type == ModelSpec.Transformer && m.VocabSize < m.OutputSize)
                errors.Add(new SpecError("model.vocabSize", "blobs need at least one token per class (vocabSize >= outputSize)"));
        }
        return samples;
    }

    /// <summary>
    /// A dataset's facts (format, size, labels) are checked against the spec by <see cref="DatasetChecks"/>, which also
    /// fills in its sample count when the spec gives none; here only the shape of the reference.
    /// </summary>
    private static long ValidateDatasetId(DatasetSpec dataset, List<SpecError> errors)
    {
        if (string.IsNullOrWhiteSpace(dataset.DatasetId) || dataset.DatasetId.Length > 100)
            errors.Add(new SpecError("dataset.datasetId", "must be a dataset id (POST /v1/datasets)"));
        if (!DatasetFormats.IsKnown(dataset.Format))
            errors.Add(new SpecError("dataset.format", $"must be one of {DatasetFormats.Names} (it is the dataset's own: leave it out)"));
        // 0 means "all of them": the Api resolves it from the dataset (DatasetChecks.Resolve) before validating, unless
        // the model is invalid (then the dataset's sample count is unknown, and the model's errors say what to fix).
        if (dataset.Samples == 0 && errors.Count > 0) return 0;
        return CheckSamples(errors, "dataset.samples", dataset.Samples);
    }

    private static long CheckSamples(List<SpecError> errors, string field, long samples)
    {
        if (samples >= 1 && samples <= MaxSamples) return samples;
        errors.Add(new SpecError(field, $"must be between 1 and {MaxSamples}"));
        return 0;
    }

    private static void ValidateRun(JobSpec spec, long samples, List<SpecError> errors)
    {
        if (spec.Rounds is < 1 or > MaxRounds)
            errors.Add(new SpecError("rounds", $"must be between 1 and {MaxRounds}"));
        else if (spec.Kind is WorkloadKind.Infer or WorkloadKind.Prep && spec.Rounds != 1)
            errors.Add(new SpecError("rounds", $"must be 1 for {Name(spec.Kind)}"));

        if (spec.ShardsPerRound is < 1 or > MaxShardsPerRound)
        {
            errors.Add(new SpecError("shardsPerRound", $"must be between 1 and {MaxShardsPerRound}"));
        }
        else if (samples > 0)
        {
            if (spec.ShardsPerRound > samples)
                errors.Add(new SpecError("shardsPerRound", $"must not exceed the dataset's {samples} samples"));
            else if ((samples + spec.ShardsPerRound - 1) / spec.ShardsPerRound > int.MaxValue)
                errors.Add(new SpecError("shardsPerRound", $"too few: a shard holds at most {int.MaxValue} samples"));
        }

        if (spec.LocalSteps is < 1 or > MaxLocalSteps)
            errors.Add(new SpecError("localSteps", $"must be between 1 and {MaxLocalSteps}"));
        if (spec.BatchSize is < 1 or > MaxBatchSize)
            errors.Add(new SpecError("batchSize", $"must be between 1 and {MaxBatchSize}"));
        if (!float.IsFinite(spec.LearningRate) || spec.LearningRate <= 0)
            errors.Add(new SpecError("learningRate", "must be a finite number above 0"));
    }

    private static void ValidatePrep(JobSpec spec, List<SpecError> errors)
    {
        if (spec.Kind != WorkloadKind.Prep) return;
        var prep = spec.Prep;
        if (prep is null)
        {
            errors.Add(new SpecError("prep", "a prep job needs prep (the operation)"));
            return;
        }
        if (!PrepOperationNames.Contains(prep.Operation))
            errors.Add(new SpecError("prep.operation", $"must be one of: {string.Join(", ", PrepOperationNames)}"));
        if (!float.IsFinite(prep.Scale) || prep.Scale <= 0)
            errors.Add(new SpecError("prep.scale", "must be a finite number above 0"));
    }

    /// <summary>FLOP and output-size caps, in doubles so that absurd specs cannot overflow the check itself.</summary>
    private static void ValidateCost(JobSpec spec, IModelDefinition definition, long samples, List<SpecError> errors)
    {
        var m = spec.Model!;
        var largest = (double)((samples + spec.ShardsPerRound - 1) / spec.ShardsPerRound);
        var forward = (double)definition.ForwardFlopsPerSample(m);
        var (shardFlops, outputBytes) = spec.Kind switch
        {
            WorkloadKind.Train => ((double)spec.LocalSteps * spec.BatchSize * 3 * forward, definition.ParameterCount(m) * 4.0),
            WorkloadKind.Infer => (largest * forward, largest * definition.OutputsPerSample(m) * 4),
            _ => (largest * definition.FeaturesPerSample(m) * 4, largest * definition.FeaturesPerSample(m)),
        };
        if (shardFlops > MaxFlopsPerShard)
        {
            errors.Add(new SpecError(spec.Kind == WorkloadKind.Train ? "localSteps" : "shardsPerRound",
                $"a shard would cost {shardFlops.ToString("E2", CultureInfo.InvariantCulture)} FLOPs; at most {MaxFlopsPerShard.ToString("E0", CultureInfo.InvariantCulture)}"));
        }
        else if (shardFlops * spec.ShardsPerRound * spec.Rounds > MaxJobFlops)
        {
            errors.Add(new SpecError("rounds",
                $"the job would cost about {(shardFlops * spec.ShardsPerRound * spec.Rounds).ToString("E2", CultureInfo.InvariantCulture)} FLOPs; at most {MaxJobFlops.ToString("E0", CultureInfo.InvariantCulture)}"));
        }
        var memoryMb = JobPlanner.MemoryBytes(spec, definition, (long)largest) / (1 << 20);
        if (memoryMb > MaxShardMemoryMb)
            errors.Add(new SpecError(spec.Kind == WorkloadKind.Prep ? "shardsPerRound" : "batchSize",
                $"a shard would need {memoryMb:F0} MiB of memory; at most {MaxShardMemoryMb}"));
        if (outputBytes > MaxShardOutputBytes)
        {
            errors.Add(new SpecError(spec.Kind == WorkloadKind.Train ? "model" : "shardsPerRound",
                $"a shard's result would be {outputBytes:F0} bytes; at most {MaxShardOutputBytes}"));
        }
    }

    private static string Name(WorkloadKind kind) => kind.ToString().ToLowerInvariant();
}
