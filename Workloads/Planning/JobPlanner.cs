namespace Huginn.Workloads;

/// <summary>Splits a valid job into rounds of shards and says what a device needs to run them.</summary>
public static class JobPlanner
{
    private const long MiB = 1L << 20;
    /// <summary>Runtime overhead (CUDA context, libtorch, buffers) added to every estimate.</summary>
    private const long OverheadMb = 64;
    private static readonly string[] TorchOnly = ["torch"];
    private static readonly string[] TorchOrJs = ["torch", "js"];

    /// <summary>The plan of a job; throws <see cref="ArgumentException"/> listing the problems when the spec is invalid.</summary>
    public static JobPlan Plan(JobSpec spec)
    {
        var errors = SpecValidator.Validate(spec);
        if (errors.Count > 0)
            throw new ArgumentException($"Invalid job spec: {string.Join("; ", errors.Select(e => $"{e.Field} {e.Reason}"))}", nameof(spec));

        var m = spec.Model!;
        var definition = ModelRegistry.Get(m.Type);
        var features = definition.FeaturesPerSample(m);
        var prep = spec.Kind == WorkloadKind.Prep;
        // Training rows exclude the held-out ones: no training shard ever samples a validation row.
        var split = spec.Validation is { } validation ? ValidationSplit.Of(validation, spec.Dataset.SampleCount(), spec.ShardsPerRound).Split : null;
        var plan = new JobPlan
        {
            Kind = spec.Kind,
            Rounds = spec.Rounds,
            ShardsPerRound = spec.ShardsPerRound,
            Samples = split?.TrainingRows ?? spec.Dataset.SampleCount(),
            ValidationRows = split?.ValidationRows ?? 0,
            ValidationOffset = split?.ValidationOffset ?? 0,
            Seed = spec.Seed,
            Steps = spec.Kind == WorkloadKind.Train ? spec.LocalSteps : 0,
            BatchSize = spec.BatchSize,
            // Quantizing costs a division, a rounding and a clamp per feature: call it 4. bf16 FLOPs are counted in
            // fp32 ones (NumericPrecision.Bf16FlopWeight): devices report fp32 speed and prices are per fp32 FLOP.
            FlopsPerSample = prep ? 4L * features : FlopsPerSample(spec, definition.ForwardFlopsPerSample(m)),
            ParameterCount = prep ? 0 : definition.ParameterCount(m),
            Requirement = new ShardRequirement(),
        };

        var largest = (plan.Samples + plan.ShardsPerRound - 1) / plan.ShardsPerRound;
        var memoryMb = MinMemoryMb(spec, definition, largest);
        // Light shards go to browsers too (BrowserShardRule); heavy ones never.
        var browsers = BrowserShardRule.Admits(spec, memoryMb);
        DeviceKind[] kinds = NumericPrecision.IsBf16(spec) ? [DeviceKind.Gpu]
            : browsers ? [DeviceKind.Gpu, DeviceKind.Cpu, DeviceKind.Browser]
            : [DeviceKind.Gpu, DeviceKind.Cpu];
        return plan with
        {
            // A copy: records are shared across grains and must not alias these arrays.
            Requirement = new ShardRequirement(memoryMb, [.. prep || browsers ? TorchOrJs : TorchOnly], kinds, plan.FlopsPerShard),
            // A forward pass in chunks needs less memory than training: the training requirement covers it. Torch only:
            // the browser worker does not run evaluation shards.
            EvaluationRequirement = plan.HasValidation
                ? new ShardRequirement(memoryMb, [.. TorchOnly], [.. kinds.Where(k => k != DeviceKind.Browser)], plan.EvaluationFlops) : null,
        };
    }

    /// <summary>Forward FLOPs of one sample in fp32 FLOPs: bf16 ones weigh <see cref="NumericPrecision.Bf16FlopWeight"/>, at least 1.</summary>
    private static long FlopsPerSample(JobSpec spec, long forwardFlops) =>
        NumericPrecision.IsBf16(spec) ? Math.Max(1, (long)Math.Ceiling(forwardFlops * NumericPrecision.Bf16FlopWeight)) : forwardFlops;

    /// <summary>
    /// Memory a shard needs, rounded up to MiB, plus <see cref="OverheadMb"/>. train: 4 copies of the float32
    /// parameters (weights, gradients, the starting weights kept for the delta, and the delta) plus a batch's
    /// activations twice (kept for backward, and their gradients). infer: the parameters once and a batch's
    /// activations once. prep: the slice's float32 rows and the prepared bytes.
    /// </summary>
    private static long MinMemoryMb(JobSpec spec, IModelDefinition definition, long largestSlice) =>
        (long)Math.Ceiling(MemoryBytes(spec, definition, largestSlice) / MiB) + OverheadMb;

    /// <summary>The bytes behind <see cref="MinMemoryMb"/>, in double so that the validator can check absurd specs.</summary>
    internal static double MemoryBytes(JobSpec spec, IModelDefinition definition, long largestSlice)
    {
        var m = spec.Model!;
        var parameters = (double)definition.ParameterCount(m);
        var activations = (double)spec.BatchSize * definition.ActivationFloatsPerSample(m);
        var features = (double)definition.FeaturesPerSample(m);
        return spec.Kind switch
        {
            WorkloadKind.Train => parameters * 4 * 4 + activations * 4 * 2,
            WorkloadKind.Infer => parameters * 4 + activations * 4,
            _ => largestSlice * (features + definition.TargetsPerSample(m)) * 4 + largestSlice * features,
        };
    }
}
