namespace Huginn.Workloads;

/// <summary>
/// Runs a shard in plain C#, one thread, bit-reproducible on any machine: the simulated devices of the tests run
/// it, and it cross-checks the TorchSharp worker. Train and infer support "mlp" only; prep supports every model.
/// </summary>
public static class ReferenceExecutor
{
    /// <summary>
    /// train: <see cref="ShardPlan.Steps"/> plain SGD steps (no momentum) from <paramref name="weights"/> at the
    /// spec's learning rate, on mini-batches of <see cref="ShardPlan.BatchSize"/> from <see cref="MiniBatchSampler"/>;
    /// returns the weight delta and the mean of the steps' batch losses. infer: the outputs of every sample of the
    /// slice. prep: the prepared bytes of the slice. <paramref name="data"/> is the shard's slice.
    /// </summary>
    public static ShardOutput Execute(JobSpec spec, ShardPlan shard, ReadOnlySpan<float> weights, DataSlice data)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count != shard.SampleCount)
            throw new ArgumentException($"The shard covers {shard.SampleCount} samples but the slice holds {data.Count}.", nameof(data));
        // An evaluation shard of a training job: the metrics of the given weights, as two values.
        if (shard.Evaluate) return ShardEvaluation.Evaluate(spec.Model!, weights, data).ToShardOutput();

        switch (spec.Kind)
        {
            case WorkloadKind.Prep:
                var prep = spec.Prep ?? throw new ArgumentException("A prep job needs prep.", nameof(spec));
                return new ShardOutput([], PrepOperations.Apply(prep, data), double.NaN, data.Count);
            case WorkloadKind.Train:
                return Train(spec, shard, weights, data);
            case WorkloadKind.Infer:
                return Infer(Network(spec.Model, weights, data), weights, data);
            default:
                throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "Unknown workload kind.");
        }
    }

    /// <summary>The model's mean loss over every sample of <paramref name="data"/> (mlp only): the job's progress metric.</summary>
    public static double Evaluate(ModelSpec m, ReadOnlySpan<float> weights, DataSlice data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var network = Network(m, weights, data);
        var total = 0.0;
        for (var i = 0; i < data.Count; i++)
        {
            network.Forward(weights, data.FeaturesOf(i));
            total += network.Loss(data.TargetsOf(i), 1);
        }
        return data.Count == 0 ? double.NaN : total / data.Count;
    }

    private static ShardOutput Train(JobSpec spec, ShardPlan shard, ReadOnlySpan<float> start, DataSlice data)
    {
        var network = Network(spec.Model, start, data);
        if (shard.Steps < 1 || shard.BatchSize < 1)
            throw new ArgumentException("A training shard needs at least one step of at least one sample.", nameof(shard));
        if (data.Count == 0) throw new ArgumentException("A training shard needs samples.", nameof(data));

        var weights = start.ToArray();
        var gradients = new double[weights.Length];
        var batch = new int[shard.BatchSize];
        var sampler = new MiniBatchSampler(shard.Seed, data.Count);
        var learningRate = (double)spec.LearningRate;
        var scale = 1.0 / shard.BatchSize;
        var lossSum = 0.0;
        for (var step = 0; step < shard.Steps; step++)
        {
            sampler.NextBatch(batch);
            Array.Clear(gradients);
            var loss = 0.0;
            foreach (var sample in batch)
            {
                network.Forward(weights, data.FeaturesOf(sample));
                loss += network.Loss(data.TargetsOf(sample), scale);
                network.Backward(weights, gradients);
            }
            lossSum += loss / shard.BatchSize;
            for (var j = 0; j < weights.Length; j++) weights[j] = (float)(weights[j] - learningRate * gradients[j]);
        }

        var delta = new float[weights.Length];
        for (var j = 0; j < delta.Length; j++) delta[j] = weights[j] - start[j];
        return new ShardOutput(delta, [], lossSum / shard.Steps, (long)shard.Steps * shard.BatchSize);
    }

    private static ShardOutput Infer(MlpNetwork network, ReadOnlySpan<float> weights, DataSlice data)
    {
        var outputs = network.Output.Length;
        var values = new float[checked(data.Count * outputs)];
        for (var i = 0; i < data.Count; i++)
        {
            network.Forward(weights, data.FeaturesOf(i));
            var output = network.Output;
            for (var o = 0; o < outputs; o++) values[i * outputs + o] = (float)output[o];
        }
        return new ShardOutput(values, [], double.NaN, data.Count);
    }

    private static MlpNetwork Network(ModelSpec? m, ReadOnlySpan<float> weights, DataSlice data)
    {
        if (m is null) throw new ArgumentException("Train and infer need a model.", nameof(m));
        if (m.Type != ModelSpec.Mlp)
            throw new NotSupportedException($"The reference executor runs only \"mlp\" models; \"{m.Type}\" runs on the TorchSharp worker.");
        var errors = ModelRegistry.Get(m.Type).Validate(m).ToList();
        if (errors.Count > 0)
            throw new ArgumentException($"Invalid model: {string.Join("; ", errors.Select(e => $"{e.Field} {e.Reason}"))}", nameof(m));

        var network = new MlpNetwork(m);
        if (weights.Length != network.ParameterCount)
            throw new ArgumentException($"The model has {network.ParameterCount} parameters but {weights.Length} weights were given.", nameof(weights));
        if (data.FeaturesPerSample != m.InputSize || data.TargetsPerSample != ModelChecks.Targets(m))
            throw new ArgumentException($"The slice has rows of {data.FeaturesPerSample} features and {data.TargetsPerSample} targets; the model needs {m.InputSize} and {ModelChecks.Targets(m)}.", nameof(data));
        return network;
    }
}
