using Huginn.Workloads;
using static TorchSharp.torch;

namespace Huginn.Worker.Execution;

/// <summary>The mlp of MlpDefinition: fc0 … fcN over the features, as the reference executor computes it.</summary>
internal sealed class TorchMlp(ModelSpec m, IModelDefinition definition, string precision) : TorchNetwork(m, definition, precision)
{
    protected override Tensor ForwardPass(Parameters p, Tensor input) => Linears(p, "fc", input);
}
