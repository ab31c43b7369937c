namespace Huginn.Workloads;

/// <summary>
/// Fully connected layers input → hidden… → output, the activation between them and none after the last.
/// Each layer is a weight [out, in] (row-major) followed by a bias [out]: the order of PyTorch's nn.Linear
/// parameters, which is how the TorchSharp worker reads the flat vector.
/// </summary>
internal static class LinearStack
{
    public static IEnumerable<(int In, int Out)> Layers(int input, int[] hidden, int output)
    {
        var previous = input;
        foreach (var width in hidden)
        {
            yield return (previous, width);
            previous = width;
        }
        yield return (previous, output);
    }

    public static void AddLayout(List<ParameterTensor> layout, string prefix, int input, int[] hidden, int output)
    {
        var i = 0;
        foreach (var (fanIn, fanOut) in Layers(input, hidden, output))
        {
            layout.Add(new ParameterTensor($"{prefix}{i}.weight", [fanOut, fanIn], fanIn));
            layout.Add(new ParameterTensor($"{prefix}{i}.bias", [fanOut], fanIn));
            i++;
        }
    }

    public static long ParameterCount(long input, int[] hidden, int output) =>
        Sum(input, hidden, output, (fanIn, fanOut) => checked(fanIn * fanOut + fanOut));

    /// <summary>2·in·out per layer: a multiply and an add per weight. Biases and activations (O(out)) are left out.</summary>
    public static long ForwardFlops(long input, int[] hidden, int output) =>
        Sum(input, hidden, output, (fanIn, fanOut) => checked(2 * fanIn * fanOut));

    /// <summary>Pre- and post-activation of every hidden layer, plus the outputs and their gradient.</summary>
    public static long ActivationFloats(int[] hidden, int output)
    {
        var floats = 2L * output;
        foreach (var width in hidden) floats = checked(floats + 2L * width);
        return floats;
    }

    private static long Sum(long input, int[] hidden, int output, Func<long, long, long> perLayer)
    {
        var total = 0L;
        var previous = input;
        foreach (var width in hidden)
        {
            total = checked(total + perLayer(previous, width));
            previous = width;
        }
        return checked(total + perLayer(previous, output));
    }
}
