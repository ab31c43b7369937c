using Huginn.Worker.Hardware;
using Huginn.Workloads;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Huginn.Worker.Execution;

/// <summary>
/// Runs shards with TorchSharp on the device the hardware profile chose, in float32 or in the job's bf16 mixed
/// precision (<see cref="JobSpec.Precision"/>, <see cref="TorchNetwork"/>), with the conventions of
/// <see cref="ReferenceExecutor"/> (mini-batches, losses, plain SGD, output shapes), so that its results agree
/// with the reference and with other devices within the verification tolerance. Synchronous, one thread per call.
/// </summary>
public sealed class TorchExecutor
{
    /// <summary>Floats of activations an inference chunk may hold (64 MiB); fixed by the model, never by the device.</summary>
    private const long InferChunkFloats = 1L << 24;
    private const int MaxInferChunk = 1024;

    private readonly Device _device;

    public TorchExecutor(HardwareProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.TorchDevice is not ("cuda" or "cpu"))
            throw new ArgumentException($"Unknown torch device '{profile.TorchDevice}'; expected \"cuda\" or \"cpu\".", nameof(profile));
        if (profile.TorchDevice == "cuda" && !torch.cuda.is_available())
            throw new ArgumentException("The profile asks for CUDA but libtorch sees no GPU.", nameof(profile));
        TorchPrecision.Apply();
        _device = torch.device(profile.TorchDevice);
    }

    /// <summary>
    /// train: <see cref="ShardPlan.Steps"/> plain SGD steps (no momentum) at the spec's learning rate on
    /// mini-batches from <see cref="MiniBatchSampler"/>; Values = final − start weights in layout order, Loss = the
    /// mean of the steps' batch losses, Samples = Steps·BatchSize. infer: the outputs of every sample, row-major.
    /// prep: <see cref="PrepOperations.Apply"/>. <paramref name="data"/> is the shard's slice.
    /// </summary>
    public ShardOutput Execute(JobSpec spec, ShardPlan shard, ReadOnlySpan<float> weights, DataSlice data)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(shard);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count != shard.SampleCount)
            throw ShardFailureException.InvalidData($"The shard covers {shard.SampleCount} samples but the slice holds {data.Count}.");
        // An evaluation shard of a training job (docs/PROTOCOL.md, assign's shard.evaluate): metrics, not a delta.
        if (shard.Evaluate) return Evaluate(spec, weights, data).ToShardOutput();

        switch (spec.Kind)
        {
            case WorkloadKind.Prep:
                var prep = spec.Prep ?? throw new ArgumentException("A prep job needs prep.", nameof(spec));
                return new ShardOutput([], PrepOperations.Apply(prep, data), double.NaN, data.Count);
            case WorkloadKind.Train:
                return Train(Network(spec, weights, data), spec.LearningRate, shard, weights, data);
            case WorkloadKind.Infer:
                return Infer(Network(spec, weights, data), weights, data);
            default:
                throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "Unknown workload kind.");
        }
    }

    /// <remarks>
    /// Shaped for an accelerator: the slice, the start weights and the whole batch schedule (drawn on the host, in
    /// <see cref="MiniBatchSampler"/>'s order) go to the device once; each step gathers its batch there, backward
    /// accumulates into one flat gradient, one in-place add is the SGD step, and the losses are summed on the device
    /// (in float64, in step order: the sum the host would make of the float32 losses) and read once at the end.
    /// </remarks>
    private ShardOutput Train(TorchNetwork network, float learningRate, ShardPlan shard, ReadOnlySpan<float> start, DataSlice data)
    {
        if (shard.Steps < 1 || shard.BatchSize < 1)
            throw new ArgumentException("A training shard needs at least one step of at least one sample.", nameof(shard));
        if (data.Count == 0) throw new ArgumentException("A training shard needs samples.", nameof(data));

        var schedule = new long[checked(shard.Steps * shard.BatchSize)];
        var sampler = new MiniBatchSampler(shard.Seed, data.Count);
        var batch = new int[shard.BatchSize];
        for (var step = 0; step < shard.Steps; step++)
        {
            sampler.NextBatch(batch);
            for (var i = 0; i < batch.Length; i++) schedule[step * batch.Length + i] = batch[i];
        }

        float[] final;
        double lossSum;
        using (torch.NewDisposeScope())
        {
            var flat = torch.tensor(start.ToArray(), torch.float32, _device);
            var gradient = torch.zeros_like(flat);
            var parameters = network.Bind(flat, gradient);
            var features = network.Input(data.Features, data.Count, _device);
            var targets = Targets(network.Model, data);
            var rows = torch.tensor(schedule, [shard.Steps, shard.BatchSize], torch.int64, _device);
            var losses = torch.zeros(1, torch.float64, _device);
            // An explicit Scalar, disposed after the loop. An implicit one (double → Scalar) is freed by its finalizer,
            // which may run while libtorch still reads it: seen once in row 4 under heavy GC, as libtorch's
            // "toFloat … Expected false to be true" (a Scalar of no known type).
            using var step = (-(double)learningRate).ToScalar();
            for (var s = 0; s < shard.Steps; s++)
            {
                using var scope = torch.NewDisposeScope();
                var indices = rows[s];
                var output = network.Forward(parameters, features.index_select(0, indices));
                var loss = Loss(network.Model, output, targets.index_select(0, indices));
                gradient.zero_();
                loss.backward();
                using (torch.no_grad())
                {
                    flat.add_(gradient, step);
                    losses.add_(loss);
                }
            }
            final = flat.cpu().data<float>().ToArray();
            lossSum = losses.cpu().item<double>();
        }

        // final − start in float32, as the reference does, so that both round the delta the same way.
        var delta = new float[final.Length];
        for (var j = 0; j < delta.Length; j++) delta[j] = final[j] - start[j];
        return new ShardOutput(delta, [], lossSum / shard.Steps, (long)shard.Steps * shard.BatchSize);
    }

    private ShardOutput Infer(TorchNetwork network, ReadOnlySpan<float> weights, DataSlice data)
    {
        var outputs = network.Model.OutputSize;
        var values = new float[checked(data.Count * outputs)];
        var chunk = (int)Math.Clamp(InferChunkFloats / Math.Max(1, network.Definition.ActivationFloatsPerSample(network.Model)), 1, MaxInferChunk);
        var features = data.FeaturesPerSample;
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var parameters = network.View(torch.tensor(weights.ToArray(), torch.float32, _device));
            for (var first = 0; first < data.Count; first += chunk)
            {
                using var scope = torch.NewDisposeScope();
                var count = Math.Min(chunk, data.Count - first);
                var rows = data.Features.AsSpan(first * features, count * features).ToArray();
                var output = network.Forward(parameters, network.Input(rows, count, _device));
                output.cpu().data<float>().CopyTo(values, first * outputs);
            }
        }
        return new ShardOutput(values, [], double.NaN, data.Count);
    }

    /// <summary>
    /// The metrics of <paramref name="weights"/> over every row of <paramref name="data"/>, with the conventions of
    /// inference (chunks of rows, no gradients) and of <see cref="ShardEvaluation"/>: the per-sample losses summed in
    /// float64 and divided by the rows, and for cross_entropy the share of rows whose argmax is the label.
    /// </summary>
    public EvaluationMetrics Evaluate(JobSpec spec, ReadOnlySpan<float> weights, DataSlice data)
    {
        if (data.Count == 0) throw new ArgumentException("An evaluation needs rows.", nameof(data));
        var network = Network(spec, weights, data);
        var m = network.Model;
        var classes = m.Loss == ModelSpec.CrossEntropy;
        var chunk = (int)Math.Clamp(InferChunkFloats / Math.Max(1, network.Definition.ActivationFloatsPerSample(m)), 1, MaxInferChunk);
        var features = data.FeaturesPerSample;
        var targetsPerRow = data.TargetsPerSample;
        var lossSum = 0.0;
        var correct = 0L;
        using (torch.NewDisposeScope())
        using (torch.no_grad())
        {
            var parameters = network.View(torch.tensor(weights.ToArray(), torch.float32, _device));
            for (var first = 0; first < data.Count; first += chunk)
            {
                using var scope = torch.NewDisposeScope();
                var count = Math.Min(chunk, data.Count - first);
                var rows = data.Features.AsSpan(first * features, count * features).ToArray();
                var output = network.Forward(parameters, network.Input(rows, count, _device)).to_type(torch.float32);
                var part = new DataSlice(rows, data.Targets.AsSpan(first * targetsPerRow, count * targetsPerRow).ToArray(), count, features, targetsPerRow);
                var targets = Targets(m, part);
                // Summed per chunk ("sum", not the mean): the mean over all rows is taken once, in float64.
                var loss = classes ? F.cross_entropy(output, targets, reduction: nn.Reduction.Sum)
                    : F.mse_loss(output, targets, reduction: nn.Reduction.Sum) / m.OutputSize;
                lossSum += loss.to_type(torch.float64).cpu().item<double>();
                if (classes) correct += output.argmax(1).eq(targets).sum().cpu().item<long>();
            }
        }
        return new EvaluationMetrics(lossSum / data.Count, classes ? (double)correct / data.Count : null, data.Count);
    }

    /// <summary>mse: the mean over the batch and the outputs of the squared error; cross_entropy: the mean over the batch of −log softmax at the target class.</summary>
    private static Tensor Loss(ModelSpec m, Tensor output, Tensor targets) =>
        m.Loss == ModelSpec.CrossEntropy ? F.cross_entropy(output, targets) : F.mse_loss(output, targets);

    /// <summary>
    /// The slice's targets on the device: [count, OutputSize] floats for mse, class indices for cross_entropy
    /// (checked here as the reference checks them, for every sample of the slice).
    /// </summary>
    private Tensor Targets(ModelSpec m, DataSlice data)
    {
        if (m.Loss != ModelSpec.CrossEntropy)
            return torch.tensor(data.Targets, [data.Count, m.OutputSize], torch.float32, _device);

        var classes = new long[data.Count];
        for (var i = 0; i < data.Count; i++)
        {
            var label = data.Targets[i];
            if (!(label >= 0 && label < m.OutputSize) || label != MathF.Floor(label))
                throw ShardFailureException.InvalidData($"Class index {label} is not one of the model's {m.OutputSize} classes (outputSize {m.OutputSize}: labels 0 to {m.OutputSize - 1}).");
            classes[i] = (long)label;
        }
        return torch.tensor(classes, torch.int64, _device);
    }

    private static TorchNetwork Network(JobSpec spec, ReadOnlySpan<float> weights, DataSlice data)
    {
        var m = spec.Model ?? throw new ArgumentException("Train and infer need a model.", nameof(spec));
        var network = TorchNetwork.Create(m, spec.Precision);
        if (weights.Length != network.ParameterCount)
            throw new ShardFailureException(ShardErrorCodes.InvalidWeights, $"The model has {network.ParameterCount} parameters but {weights.Length} weights were given.");
        var definition = network.Definition;
        if (data.FeaturesPerSample != definition.FeaturesPerSample(m) || data.TargetsPerSample != definition.TargetsPerSample(m))
            throw ShardFailureException.InvalidData($"The slice has rows of {data.FeaturesPerSample} features and {data.TargetsPerSample} targets; the model needs {definition.FeaturesPerSample(m)} and {definition.TargetsPerSample(m)}.");
        return network;
    }
}
