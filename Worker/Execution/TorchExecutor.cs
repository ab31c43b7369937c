using Huginn.Worker.Hardware;
using Huginn.Workloads;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Huginn.Worker.Execution;

/// <summary>
/// Runs shards with TorchSharp in float32 on the device the hardware profile chose, with the conventions of
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
            throw new ArgumentException($"The shard covers {shard.SampleCount} samples but the slice holds {data.Count}.", nameof(data));

        switch (spec.Kind)
        {
            case WorkloadKind.Prep:
                var prep = spec.Prep ?? throw new ArgumentException("A prep job needs prep.", nameof(spec));
                return new ShardOutput([], PrepOperations.Apply(prep, data), double.NaN, data.Count);
            case WorkloadKind.Train:
                return Train(Network(spec.Model, weights, data), spec.LearningRate, shard, weights, data);
            case WorkloadKind.Infer:
                return Infer(Network(spec.Model, weights, data), weights, data);
            default:
                throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "Unknown workload kind.");
        }
    }

    private ShardOutput Train(TorchNetwork network, float learningRate, ShardPlan shard, ReadOnlySpan<float> start, DataSlice data)
    {
        if (shard.Steps < 1 || shard.BatchSize < 1)
            throw new ArgumentException("A training shard needs at least one step of at least one sample.", nameof(shard));
        if (data.Count == 0) throw new ArgumentException("A training shard needs samples.", nameof(data));

        float[] final;
        var lossSum = 0.0;
        using (torch.NewDisposeScope())
        {
            // Made on the device first, then marked: a leaf of the graph, not a copy of a CPU tensor that requires grad.
            var flat = torch.tensor(start.ToArray(), torch.float32, _device).requires_grad_(true);
            var sampler = new MiniBatchSampler(shard.Seed, data.Count);
            var batch = new int[shard.BatchSize];
            for (var step = 0; step < shard.Steps; step++)
            {
                sampler.NextBatch(batch);
                lossSum += Step(network, flat, data, batch, learningRate);
            }
            final = flat.detach().cpu().data<float>().ToArray();
        }

        // final − start in float32, as the reference does, so that both round the delta the same way.
        var delta = new float[final.Length];
        for (var j = 0; j < delta.Length; j++) delta[j] = final[j] - start[j];
        return new ShardOutput(delta, [], lossSum / shard.Steps, (long)shard.Steps * shard.BatchSize);
    }

    /// <summary>One SGD step on the batch, in place on <paramref name="flat"/>; returns the batch's mean loss (before the step).</summary>
    private double Step(TorchNetwork network, Tensor flat, DataSlice data, int[] batch, float learningRate)
    {
        using var scope = torch.NewDisposeScope();
        var (features, targets) = Gather(data, batch);
        var input = network.Input(features, batch.Length, _device);
        var loss = Loss(network.Model, network.Forward(flat, input), targets, batch.Length);
        var gradient = torch.autograd.grad([loss], [flat])[0];
        // An explicit Scalar, disposed after the call. An implicit one (double → Scalar) is freed by its finalizer,
        // which may run while libtorch still reads it: seen once in row 4 under heavy GC, as libtorch's
        // "toFloat … Expected false to be true" (a Scalar of no known type).
        using var step = (-(double)learningRate).ToScalar();
        using (torch.no_grad())
        {
            flat.add_(gradient, step);
        }
        return loss.item<float>();
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
            var flat = torch.tensor(weights.ToArray(), torch.float32, _device);
            for (var first = 0; first < data.Count; first += chunk)
            {
                using var scope = torch.NewDisposeScope();
                var count = Math.Min(chunk, data.Count - first);
                var rows = data.Features.AsSpan(first * features, count * features).ToArray();
                var output = network.Forward(flat, network.Input(rows, count, _device));
                output.cpu().data<float>().CopyTo(values, first * outputs);
            }
        }
        return new ShardOutput(values, [], double.NaN, data.Count);
    }

    /// <summary>
    /// mse: the mean over the batch and the outputs of the squared error; cross_entropy: the mean over the batch
    /// of −log softmax at the target class (class indices, checked here as the reference checks them).
    /// </summary>
    private Tensor Loss(ModelSpec m, Tensor output, float[] targets, int count)
    {
        if (m.Loss != ModelSpec.CrossEntropy)
            return F.mse_loss(output, torch.tensor(targets, [count, m.OutputSize], torch.float32, _device));

        var classes = new long[count];
        for (var i = 0; i < count; i++)
        {
            var label = targets[i];
            if (!(label >= 0 && label < m.OutputSize) || label != MathF.Floor(label))
                throw new ArgumentException($"Class index {label} is not one of the model's {m.OutputSize} classes.", nameof(targets));
            classes[i] = (long)label;
        }
        return F.cross_entropy(output, torch.tensor(classes, torch.int64, _device));
    }

    /// <summary>The batch's rows of features and targets, in batch order (an index may repeat).</summary>
    private static (float[] Features, float[] Targets) Gather(DataSlice data, int[] batch)
    {
        var features = new float[batch.Length * data.FeaturesPerSample];
        var targets = new float[batch.Length * data.TargetsPerSample];
        for (var i = 0; i < batch.Length; i++)
        {
            data.FeaturesOf(batch[i]).CopyTo(features.AsSpan(i * data.FeaturesPerSample));
            data.TargetsOf(batch[i]).CopyTo(targets.AsSpan(i * data.TargetsPerSample));
        }
        return (features, targets);
    }

    private static TorchNetwork Network(ModelSpec? m, ReadOnlySpan<float> weights, DataSlice data)
    {
        if (m is null) throw new ArgumentException("Train and infer need a model.", nameof(m));
        var network = TorchNetwork.Create(m);
        if (weights.Length != network.ParameterCount)
            throw new ArgumentException($"The model has {network.ParameterCount} parameters but {weights.Length} weights were given.", nameof(weights));
        var definition = network.Definition;
        if (data.FeaturesPerSample != definition.FeaturesPerSample(m) || data.TargetsPerSample != definition.TargetsPerSample(m))
            throw new ArgumentException($"The slice has rows of {data.FeaturesPerSample} features and {data.TargetsPerSample} targets; the model needs {definition.FeaturesPerSample(m)} and {definition.TargetsPerSample(m)}.", nameof(data));
        return network;
    }
}
