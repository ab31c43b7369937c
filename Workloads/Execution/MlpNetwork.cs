namespace Huginn.Workloads;

/// <summary>
/// A plain-C# mlp over a flat float32 weight vector in <see cref="LinearStack"/> layout, one sample at a time.
/// Activations and gradients are doubles: the reference should be closer to exact than any device it checks.
/// </summary>
internal sealed class MlpNetwork
{
    private readonly int[] _sizes;
    private readonly int[] _weightOffsets;
    private readonly int[] _biasOffsets;
    private readonly bool _tanh;
    private readonly bool _classes;
    // _activations[0] is the input; _activations[l + 1] the output of layer l (after the activation, except the last).
    private readonly double[][] _activations;
    private readonly double[][] _preActivations;
    private readonly double[][] _deltas;

    public MlpNetwork(ModelSpec m)
    {
        _sizes = [m.InputSize, .. m.HiddenSizes, m.OutputSize];
        var layers = _sizes.Length - 1;
        _weightOffsets = new int[layers];
        _biasOffsets = new int[layers];
        var offset = 0;
        for (var l = 0; l < layers; l++)
        {
            _weightOffsets[l] = offset;
            offset += _sizes[l] * _sizes[l + 1];
            _biasOffsets[l] = offset;
            offset += _sizes[l + 1];
        }
        ParameterCount = offset;
        _tanh = m.Activation == ModelSpec.Tanh;
        _classes = m.Loss == ModelSpec.CrossEntropy;
        _activations = _sizes.Select(size => new double[size]).ToArray();
        _preActivations = _sizes.Skip(1).Select(size => new double[size]).ToArray();
        _deltas = _sizes.Skip(1).Select(size => new double[size]).ToArray();
    }

    public int ParameterCount { get; }

    public ReadOnlySpan<double> Output => _activations[^1];

    public void Forward(ReadOnlySpan<float> weights, ReadOnlySpan<float> input)
    {
        var first = _activations[0];
        for (var i = 0; i < first.Length; i++) first[i] = input[i];
        var last = _preActivations.Length - 1;
        for (var l = 0; l <= last; l++)
        {
            var fanIn = _sizes[l];
            var inputs = _activations[l];
            var pre = _preActivations[l];
            var outputs = _activations[l + 1];
            for (var o = 0; o < pre.Length; o++)
            {
                var row = weights.Slice(_weightOffsets[l] + o * fanIn, fanIn);
                var sum = 0.0;
                for (var i = 0; i < fanIn; i++) sum += row[i] * inputs[i];
                pre[o] = sum + weights[_biasOffsets[l] + o];
                outputs[o] = l == last ? pre[o] : Activate(pre[o]);
            }
        }
    }

    /// <summary>
    /// The loss of the last forward pass against a target row, and its gradient times <paramref name="scale"/>
    /// (1 / batch size) as the delta of the last layer. mse: mean over outputs of the squared error;
    /// cross_entropy: −log softmax at the target class.
    /// </summary>
    public double Loss(ReadOnlySpan<float> target, double scale)
    {
        var z = _activations[^1];
        var delta = _deltas[^1];
        if (!_classes)
        {
            var loss = 0.0;
            for (var o = 0; o < z.Length; o++)
            {
                var error = z[o] - target[o];
                loss += error * error;
                delta[o] = 2 * error / z.Length * scale;
            }
            return loss / z.Length;
        }

        var label = target[0];
        if (!(label >= 0 && label < z.Length) || label != MathF.Floor(label))
            throw new ArgumentException($"Class index {label} is not one of the model's {z.Length} classes.", nameof(target));
        var y = (int)label;
        var max = z.Max();
        var total = 0.0;
        for (var o = 0; o < z.Length; o++) total += DeterministicMath.Exp(z[o] - max);
        var logTotal = DeterministicMath.Log(total);
        for (var o = 0; o < z.Length; o++)
        {
            var p = DeterministicMath.Exp(z[o] - max - logTotal);
            delta[o] = (p - (o == y ? 1 : 0)) * scale;
        }
        return max + logTotal - z[y];
    }

    /// <summary>Adds the gradient of the last <see cref="Loss"/> with respect to every weight to <paramref name="gradients"/>.</summary>
    public void Backward(ReadOnlySpan<float> weights, Span<double> gradients)
    {
        for (var l = _deltas.Length - 1; l >= 0; l--)
        {
            var fanIn = _sizes[l];
            var inputs = _activations[l];
            var delta = _deltas[l];
            for (var o = 0; o < delta.Length; o++)
            {
                var row = gradients.Slice(_weightOffsets[l] + o * fanIn, fanIn);
                for (var i = 0; i < fanIn; i++) row[i] += delta[o] * inputs[i];
                gradients[_biasOffsets[l] + o] += delta[o];
            }
            if (l == 0) break;

            var below = _deltas[l - 1];
            var pre = _preActivations[l - 1];
            var post = _activations[l];
            for (var i = 0; i < fanIn; i++)
            {
                var sum = 0.0;
                for (var o = 0; o < delta.Length; o++) sum += weights[_weightOffsets[l] + o * fanIn + i] * delta[o];
                below[i] = sum * (_tanh ? 1 - post[i] * post[i] : pre[i] > 0 ? 1 : 0);
            }
        }
    }

    private double Activate(double z) => _tanh ? DeterministicMath.Tanh(z) : Math.Max(z, 0);
}
