using Huginn.Workloads;

namespace Huginn.Tests.Worker;

/// <summary>
/// The cnn and transformer of the model definitions written as plain loops in double over the flat weight
/// vector, read through the registry's layout by tensor name: an implementation independent of TorchSharp to
/// check that the worker reads the layout (shapes, order, padding, pooling, flattening, q/k/v rows) as documented.
/// </summary>
internal static class PlainNetworks
{
    /// <summary>The outputs of one sample.</summary>
    public static double[] Forward(ModelSpec m, float[] weights, ReadOnlySpan<float> features) => m.Type switch
    {
        ModelSpec.Cnn => Cnn(m, new Weights(m, weights), features),
        ModelSpec.Transformer => Transformer(m, new Weights(m, weights), features),
        _ => throw new NotSupportedException(m.Type),
    };

    /// <summary>The mean loss over the samples, as the executors define it.</summary>
    public static double Loss(ModelSpec m, float[] weights, DataSlice data)
    {
        var total = 0.0;
        for (var i = 0; i < data.Count; i++)
        {
            var z = Forward(m, weights, data.FeaturesOf(i));
            var target = data.TargetsOf(i).ToArray();
            if (m.Loss == ModelSpec.Mse)
            {
                total += z.Select((value, o) => (value - target[o]) * (value - target[o])).Sum() / z.Length;
                continue;
            }
            var max = z.Max();
            total += max + Math.Log(z.Sum(value => Math.Exp(value - max))) - z[(int)target[0]];
        }
        return total / data.Count;
    }

    private static double[] Cnn(ModelSpec m, Weights w, ReadOnlySpan<float> features)
    {
        var channels = m.Channels;
        var side = m.ImageSize;
        var x = features.ToArray().Select(v => (double)v).ToArray();
        for (var i = 0; i < m.ConvChannels.Length; i++)
        {
            var outs = m.ConvChannels[i];
            var conv = new double[outs * side * side];
            for (var o = 0; o < conv.Length; o++)
            {
                conv[o] = Activate(m, Convolve(m, w[$"conv{i}.weight"], w[$"conv{i}.bias"], x, channels, side, o));
            }
            var pooled = side / 2;
            x = new double[outs * pooled * pooled];
            for (var o = 0; o < x.Length; o++)
            {
                int c = o / (pooled * pooled), y = o / pooled % pooled, column = o % pooled;
                x[o] = new[] { (0, 0), (0, 1), (1, 0), (1, 1) }.Max(d => conv[(c * side + 2 * y + d.Item1) * side + 2 * column + d.Item2]);
            }
            channels = outs;
            side = pooled;
        }
        return Linears(m, w, "fc", x, m.HiddenSizes.Length + 1);
    }

    /// <summary>Output <paramref name="o"/> (CHW index) of a k×k convolution padded by k/2 with zeros, before the activation.</summary>
    private static double Convolve(ModelSpec m, float[] kernel, float[] bias, double[] x, int channels, int side, int o)
    {
        int k = m.KernelSize, pad = k / 2;
        int co = o / (side * side), y = o / side % side, column = o % side;
        var sum = (double)bias[co];
        for (var ci = 0; ci < channels; ci++)
        {
            for (var ky = 0; ky < k; ky++)
            {
                for (var kx = 0; kx < k; kx++)
                {
                    int sy = y + ky - pad, sx = column + kx - pad;
                    if (sy < 0 || sy >= side || sx < 0 || sx >= side) continue;
                    sum += kernel[((co * channels + ci) * k + ky) * k + kx] * x[(ci * side + sy) * side + sx];
                }
            }
        }
        return sum;
    }

    private static double[] Transformer(ModelSpec m, Weights w, ReadOnlySpan<float> features)
    {
        int s = m.SequenceLength, d = m.ModelDim, heads = m.Heads, width = d / heads;
        var token = w["embedding.token"];
        var position = w["embedding.position"];
        var x = new double[s][];
        for (var p = 0; p < s; p++)
        {
            var id = (int)features[p];
            x[p] = Enumerable.Range(0, d).Select(j => (double)token[id * d + j] + position[p * d + j]).ToArray();
        }
        for (var l = 0; l < m.Layers; l++)
        {
            var block = $"blocks.{l}";
            var h = x.Select(row => Norm(w, $"{block}.norm1", row)).ToArray();
            var inWeight = w[$"{block}.attention.in_proj_weight"];
            var inBias = w[$"{block}.attention.in_proj_bias"];
            // Rows [0, d) of in_proj are q, [d, 2d) k, [2d, 3d) v.
            var q = h.Select(row => Affine(inWeight, inBias, row, d, 0)).ToArray();
            var kk = h.Select(row => Affine(inWeight, inBias, row, d, d)).ToArray();
            var v = h.Select(row => Affine(inWeight, inBias, row, d, 2 * d)).ToArray();
            var mixed = new double[s][];
            for (var p = 0; p < s; p++) mixed[p] = new double[d];
            for (var head = 0; head < heads; head++)
            {
                var columns = Enumerable.Range(head * width, width).ToArray();
                for (var p = 0; p < s; p++)
                {
                    var scores = Enumerable.Range(0, s).Select(t => columns.Sum(c => q[p][c] * kk[t][c]) / Math.Sqrt(width)).ToArray();
                    var max = scores.Max();
                    var exp = scores.Select(score => Math.Exp(score - max)).ToArray();
                    var total = exp.Sum();
                    foreach (var c in columns) mixed[p][c] = Enumerable.Range(0, s).Sum(t => exp[t] / total * v[t][c]);
                }
            }
            for (var p = 0; p < s; p++)
            {
                var attended = Affine(w[$"{block}.attention.out_proj.weight"], w[$"{block}.attention.out_proj.bias"], mixed[p], d, 0);
                for (var j = 0; j < d; j++) x[p][j] += attended[j];
                var hidden = Affine(w[$"{block}.ff1.weight"], w[$"{block}.ff1.bias"], Norm(w, $"{block}.norm2", x[p]), m.FeedForwardDim, 0)
                    .Select(value => Activate(m, value)).ToArray();
                var output = Affine(w[$"{block}.ff2.weight"], w[$"{block}.ff2.bias"], hidden, d, 0);
                for (var j = 0; j < d; j++) x[p][j] += output[j];
            }
        }
        var normed = x.Select(row => Norm(w, "norm", row)).ToArray();
        var pooled = Enumerable.Range(0, d).Select(j => normed.Average(row => row[j])).ToArray();
        return Affine(w["head.weight"], w["head.bias"], pooled, m.OutputSize, 0);
    }

    private static double[] Linears(ModelSpec m, Weights w, string prefix, double[] x, int layers)
    {
        for (var l = 0; l < layers; l++)
        {
            var bias = w[$"{prefix}{l}.bias"];
            x = Affine(w[$"{prefix}{l}.weight"], bias, x, bias.Length, 0);
            if (l < layers - 1) x = x.Select(value => Activate(m, value)).ToArray();
        }
        return x;
    }

    /// <summary>Rows [firstRow, firstRow + outputs) of weight [*, x.Length] times x, plus the same entries of bias.</summary>
    private static double[] Affine(float[] weight, float[] bias, double[] x, int outputs, int firstRow)
    {
        var y = new double[outputs];
        for (var o = 0; o < outputs; o++)
        {
            var sum = (double)bias[firstRow + o];
            for (var i = 0; i < x.Length; i++) sum += weight[(firstRow + o) * x.Length + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    /// <summary>LayerNorm with the biased variance and eps 1e-5, as nn.LayerNorm.</summary>
    private static double[] Norm(Weights w, string prefix, double[] x)
    {
        var mean = x.Average();
        var variance = x.Average(value => (value - mean) * (value - mean));
        var scale = w[$"{prefix}.weight"];
        var shift = w[$"{prefix}.bias"];
        return x.Select((value, j) => (value - mean) / Math.Sqrt(variance + 1e-5) * scale[j] + shift[j]).ToArray();
    }

    private static double Activate(ModelSpec m, double z) => m.Activation == ModelSpec.Tanh ? Math.Tanh(z) : Math.Max(z, 0);

    /// <summary>The flat vector cut into its layout tensors by name.</summary>
    private sealed class Weights
    {
        private readonly Dictionary<string, float[]> _tensors = [];

        public Weights(ModelSpec m, float[] flat)
        {
            var offset = 0;
            foreach (var tensor in ModelRegistry.Get(m.Type).Layout(m))
            {
                _tensors[tensor.Name] = flat.AsSpan(offset, (int)tensor.Size).ToArray();
                offset += (int)tensor.Size;
            }
            if (offset != flat.Length) throw new ArgumentException($"The layout holds {offset} weights; {flat.Length} were given.");
        }

        public float[] this[string name] => _tensors[name];
    }
}
