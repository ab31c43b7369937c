using Huginn.Workloads;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Huginn.Worker.Execution;

/// <summary>
/// The cnn of CnnDefinition: per entry of ConvChannels a k×k convolution (stride 1, padding k/2), the
/// activation, a 2×2 max-pool (stride 2, floor); the CHW flattening of the last map; then the fc head.
/// </summary>
internal sealed class TorchCnn(ModelSpec m, IModelDefinition definition, string precision) : TorchNetwork(m, definition, precision)
{
    private readonly long[] _padding = [m.KernelSize / 2, m.KernelSize / 2];
    private static readonly long[] Pool = [2, 2];
    // Made once, not per step (see TorchNetwork.Linears).
    private readonly (string Weight, string Bias)[] _conv = m.ConvChannels.Select((_, i) => ($"conv{i}.weight", $"conv{i}.bias")).ToArray();

    public override Tensor Input(float[] rows, int count, Device device) =>
        torch.tensor(rows, [count, Model.Channels, Model.ImageSize, Model.ImageSize], torch.float32, device);

    protected override Tensor ForwardPass(Parameters p, Tensor input)
    {
        var x = input;
        for (var i = 0; i < Model.ConvChannels.Length; i++)
        {
            x = Conv2d(x, p[_conv[i].Weight], p[_conv[i].Bias], _padding);
            x = F.max_pool2d(Activate(x), Pool, Pool);
        }
        return Linears(p, "fc", x.flatten(1));
    }
}
