using Huginn.Workloads;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Huginn.Worker.Execution;

/// <summary>
/// A registry model as a forward pass over views of one flat float32 parameter tensor, so that the flat weight
/// vector of the pool is the network's storage: every view is cut at the offset and shape that
/// <see cref="IModelDefinition.Layout"/> gives its name, and the gradient with respect to the flat tensor comes
/// out in layout order without any copying or reordering.
/// </summary>
internal abstract class TorchNetwork
{
    private readonly Dictionary<string, (long Offset, long[] Shape)> _tensors = new(StringComparer.Ordinal);

    private readonly bool _bf16;

    protected TorchNetwork(ModelSpec m, IModelDefinition definition, string precision)
    {
        if (!NumericPrecision.IsKnown(precision))
            throw new ShardFailureException(ShardErrorCodes.UnsupportedModel, $"Unknown precision \"{precision}\"; expected \"{NumericPrecision.Fp32}\" or \"{NumericPrecision.Bf16}\".");
        Model = m;
        Definition = definition;
        _bf16 = precision == NumericPrecision.Bf16;
        var offset = 0L;
        foreach (var tensor in definition.Layout(m))
        {
            _tensors.Add(tensor.Name, (offset, tensor.Shape.Select(d => (long)d).ToArray()));
            offset += tensor.Size;
        }
        ParameterCount = offset;
    }

    public ModelSpec Model { get; }

    public IModelDefinition Definition { get; }

    /// <summary>Length of the flat weight vector.</summary>
    public long ParameterCount { get; }

    /// <summary>
    /// The network of a valid model computing in <paramref name="precision"/> ("fp32" or "bf16"); throws
    /// <see cref="ArgumentException"/> for an invalid or unknown one.
    /// </summary>
    public static TorchNetwork Create(ModelSpec m, string precision = NumericPrecision.Fp32)
    {
        ArgumentNullException.ThrowIfNull(m);
        var definition = ModelRegistry.Get(m.Type);
        var errors = definition.Validate(m).ToList();
        if (errors.Count > 0)
            throw new ShardFailureException(ShardErrorCodes.UnsupportedModel, $"Invalid model: {string.Join("; ", errors.Select(e => $"{e.Field} {e.Reason}"))}");
        return m.Type switch
        {
            ModelSpec.Mlp => new TorchMlp(m, definition, precision),
            ModelSpec.Cnn => new TorchCnn(m, definition, precision),
            ModelSpec.Transformer => new TorchTransformer(m, definition, precision),
            _ => throw new ShardFailureException(ShardErrorCodes.UnsupportedModel, $"The TorchSharp worker has no network for model type \"{m.Type}\"."),
        };
    }

    /// <summary>
    /// <paramref name="count"/> rows of features (row-major, <see cref="IModelDefinition.FeaturesPerSample"/> each)
    /// as the network's input on <paramref name="device"/>.
    /// </summary>
    public virtual Tensor Input(float[] rows, int count, Device device) =>
        torch.tensor(rows, [count, Definition.FeaturesPerSample(Model)], torch.float32, device);

    /// <summary>The parameter tensors as views of <paramref name="flat"/>, for a forward pass without gradients.</summary>
    public Parameters View(Tensor flat)
    {
        CheckFlat(flat, nameof(flat));
        return new Parameters(_tensors.ToDictionary(t => t.Key, t => Cut(flat, t.Value.Offset, t.Value.Shape), StringComparer.Ordinal));
    }

    /// <summary>
    /// The parameter tensors for training: leaves of the graph whose storage is <paramref name="flat"/>'s and whose
    /// gradients are views of <paramref name="gradient"/>, so that backward accumulates every gradient straight into
    /// the one flat gradient (in layout order) and one in-place update of <paramref name="flat"/> is the SGD step.
    /// </summary>
    public Parameters Bind(Tensor flat, Tensor gradient)
    {
        CheckFlat(flat, nameof(flat));
        CheckFlat(gradient, nameof(gradient));
        var views = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, (offset, shape)) in _tensors)
        {
            // detach: a leaf that shares the flat storage (and its version counter), not a node of a graph over it.
            var view = Cut(flat, offset, shape).detach().requires_grad_(true);
            view.grad = Cut(gradient, offset, shape);
            views.Add(name, view);
        }
        return new Parameters(views);
    }

    /// <summary>The outputs [batch, OutputSize] of a batch made by <see cref="Input"/>, from the parameters, in float32.</summary>
    public Tensor Forward(Parameters p, Tensor input) => Full(ForwardPass(p, input));

    /// <summary>The forward pass; its result may be bfloat16 in bf16.</summary>
    protected abstract Tensor ForwardPass(Parameters p, Tensor input);

    /// <summary>x·wᵀ + b, in bfloat16 when the network computes in bf16.</summary>
    protected Tensor Linear(Tensor x, Tensor weight, Tensor bias) => F.linear(Low(x), Low(weight), Low(bias));

    /// <summary>A stride-1 convolution, in bfloat16 when the network computes in bf16.</summary>
    protected Tensor Conv2d(Tensor x, Tensor weight, Tensor bias, long[] padding) =>
        F.conv2d(Low(x), Low(weight), Low(bias), padding: padding);

    /// <summary>a·b, in bfloat16 when the network computes in bf16.</summary>
    protected static Tensor MatMul(Tensor a, Tensor b) => a.dtype == b.dtype ? a.matmul(b) : a.matmul(b.to_type(a.dtype));

    /// <summary>
    /// The operand of a float32-only step (softmax, layer norm, the loss): autocast runs those in float32 because
    /// bfloat16's 8 mantissa bits lose too much in exponentials and sums of squares.
    /// </summary>
    protected static Tensor Full(Tensor x) => x.dtype == ScalarType.Float32 ? x : x.to_type(ScalarType.Float32);

    /// <summary>A matrix operand in the network's compute type: unchanged in fp32, a bfloat16 copy (in the graph) in bf16.</summary>
    protected Tensor Low(Tensor x) => !_bf16 || x.dtype == ScalarType.BFloat16 ? x : x.to_type(ScalarType.BFloat16);

    private void CheckFlat(Tensor flat, string name)
    {
        if (flat.shape is not [var length] || length != ParameterCount)
            throw new ArgumentException($"The model has {ParameterCount} parameters; the flat tensor has shape [{string.Join(", ", flat.shape)}].", name);
    }

    private static Tensor Cut(Tensor flat, long offset, long[] shape) =>
        flat.narrow(0, offset, shape.Aggregate(1L, (product, d) => product * d)).view(shape);

    /// <summary>The hidden nonlinearity of the spec, the same everywhere in the model.</summary>
    protected Tensor Activate(Tensor x) => Model.Activation == ModelSpec.Tanh ? x.tanh() : x.relu();

    /// <summary>
    /// The LinearStack of Workloads: {prefix}0 … {prefix}{HiddenSizes.Length}, the activation between layers and
    /// none after the last (the logits or regression outputs).
    /// </summary>
    protected Tensor Linears(Parameters p, string prefix, Tensor x)
    {
        var names = LinearNames(prefix);
        for (var l = 0; l < names.Length; l++)
        {
            x = Linear(x, p[names[l].Weight], p[names[l].Bias]);
            if (l < names.Length - 1) x = Activate(x);
        }
        return x;
    }

    private readonly Dictionary<string, (string Weight, string Bias)[]> _linearNames = new(StringComparer.Ordinal);

    /// <summary>
    /// The weight and bias names of {prefix}0 … {prefix}{HiddenSizes.Length}, made once per network: formatted on
    /// every step they were garbage the GC had to chase, a few strings per layer per step.
    /// </summary>
    private (string Weight, string Bias)[] LinearNames(string prefix)
    {
        if (!_linearNames.TryGetValue(prefix, out var names))
        {
            names = Enumerable.Range(0, Model.HiddenSizes.Length + 1).Select(l => ($"{prefix}{l}.weight", $"{prefix}{l}.bias")).ToArray();
            _linearNames.Add(prefix, names);
        }
        return names;
    }

    /// <summary>The parameter tensors by layout name, cut once per shard (see <see cref="View"/> and <see cref="Bind"/>).</summary>
    public sealed class Parameters(Dictionary<string, Tensor> tensors)
    {
        public Tensor this[string name] => tensors.TryGetValue(name, out var tensor)
            ? tensor
            : throw new InvalidOperationException($"The layout has no parameter tensor \"{name}\"; the network and the registry disagree.");
    }
}
