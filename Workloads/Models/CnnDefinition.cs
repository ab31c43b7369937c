namespace Huginn.Workloads;

/// <summary>
/// Convolutional classifier on square CHW images: for each entry of ConvChannels a k×k convolution padded to
/// keep the size (padding k/2, stride 1), the activation, then a 2×2 max-pool (stride 2, size rounded down);
/// the last feature map is flattened (CHW) into a <see cref="LinearStack"/> head through HiddenSizes to OutputSize.
/// </summary>
/// <remarks>
/// Layout: conv{i}.weight [cout, cin, k, k], conv{i}.bias [cout] (nn.Conv2d order, fan-in cin·k·k) for each
/// convolution, then fc{j}.weight [out, in], fc{j}.bias [out] for the head.
/// </remarks>
internal sealed class CnnDefinition : IModelDefinition
{
    private const int MaxChannels = 1 << 16;
    private const int MaxConvLayers = 16;
    private const int MaxImageSize = 4096;
    private const int MaxKernelSize = 15;

    public string Type => ModelSpec.Cnn;

    public IReadOnlyList<ParameterTensor> Layout(ModelSpec m)
    {
        var layout = new List<ParameterTensor>();
        var k = m.KernelSize;
        var i = 0;
        foreach (var (cin, cout, _) in Convolutions(m))
        {
            var fanIn = cin * k * k;
            layout.Add(new ParameterTensor($"conv{i}.weight", [cout, cin, k, k], fanIn));
            layout.Add(new ParameterTensor($"conv{i}.bias", [cout], fanIn));
            i++;
        }
        LinearStack.AddLayout(layout, "fc", checked((int)HeadInput(m)), m.HiddenSizes, m.OutputSize);
        return layout;
    }

    public long ParameterCount(ModelSpec m)
    {
        var k2 = (long)m.KernelSize * m.KernelSize;
        var count = 0L;
        foreach (var (cin, cout, _) in Convolutions(m)) count = checked(count + cin * k2 * cout + cout);
        return checked(count + LinearStack.ParameterCount(HeadInput(m), m.HiddenSizes, m.OutputSize));
    }

    /// <summary>2·k²·cin·cout·H·W per convolution (H×W its input, kept by the padding), plus the head's Σ 2·in·out; pooling and activations are left out.</summary>
    public long ForwardFlopsPerSample(ModelSpec m)
    {
        var k2 = (long)m.KernelSize * m.KernelSize;
        var flops = 0L;
        foreach (var (cin, cout, side) in Convolutions(m)) flops = checked(flops + 2 * k2 * cin * cout * side * side);
        return checked(flops + LinearStack.ForwardFlops(HeadInput(m), m.HiddenSizes, m.OutputSize));
    }

    public int FeaturesPerSample(ModelSpec m) => checked(m.Channels * m.ImageSize * m.ImageSize);

    public int TargetsPerSample(ModelSpec m) => ModelChecks.Targets(m);

    public int OutputsPerSample(ModelSpec m) => m.OutputSize;

    /// <summary>The image, then per convolution its output before and after the activation and the pooled map, then the head's.</summary>
    public long ActivationFloatsPerSample(ModelSpec m)
    {
        var floats = (long)m.Channels * m.ImageSize * m.ImageSize;
        foreach (var (_, cout, side) in Convolutions(m))
        {
            var pooled = side / 2;
            floats = checked(floats + 2L * cout * side * side + (long)cout * pooled * pooled);
        }
        return checked(floats + LinearStack.ActivationFloats(m.HiddenSizes, m.OutputSize));
    }

    public IEnumerable<SpecError> Validate(ModelSpec m)
    {
        var errors = new List<SpecError>();
        ModelChecks.Range(errors, "model.channels", m.Channels, 1, MaxChannels);
        ModelChecks.Range(errors, "model.imageSize", m.ImageSize, 1, MaxImageSize);
        ModelChecks.Widths(errors, "model.convChannels", m.ConvChannels, 1, MaxConvLayers, MaxChannels);
        ModelChecks.Range(errors, "model.kernelSize", m.KernelSize, 1, MaxKernelSize);
        if (m.KernelSize % 2 == 0) errors.Add(new SpecError("model.kernelSize", "must be odd, so that padding keeps the image size"));
        ModelChecks.Widths(errors, "model.hiddenSizes", m.HiddenSizes, 0, ModelChecks.MaxHiddenLayers, ModelChecks.MaxWidth);
        ModelChecks.Head(errors, m);
        if (errors.Count > 0) return errors;

        var layers = m.ConvChannels.Length;
        if (m.ImageSize >> layers < 1)
            errors.Add(new SpecError("model.imageSize", $"each convolution halves the image: {layers} of them need at least {1 << layers} pixels a side"));
        else if (HeadInput(m) > ModelChecks.MaxWidth)
            errors.Add(new SpecError("model.convChannels", $"the flattened feature map must have at most {ModelChecks.MaxWidth} values; add a convolution or use fewer channels"));
        var pixels = (long)m.Channels * m.ImageSize * m.ImageSize;
        if (pixels > ModelChecks.MaxWidth * 16L)
            errors.Add(new SpecError("model.imageSize", $"channels × imageSize² must be at most {ModelChecks.MaxWidth * 16L}"));
        ModelChecks.DerivedInput(errors, m, pixels, "channels × imageSize²");
        return errors;
    }

    /// <summary>Input channels, output channels and side of the input of each convolution.</summary>
    private static IEnumerable<(int In, int Out, int Side)> Convolutions(ModelSpec m)
    {
        var channels = m.Channels;
        var side = m.ImageSize;
        foreach (var cout in m.ConvChannels)
        {
            yield return (channels, cout, side);
            channels = cout;
            side /= 2;
        }
    }

    private static long HeadInput(ModelSpec m)
    {
        var side = (long)(m.ImageSize >> m.ConvChannels.Length);
        return m.ConvChannels[^1] * side * side;
    }
}
