namespace Huginn.Workloads;

/// <summary>
/// Multi-layer perceptron: InputSize → HiddenSizes… → OutputSize, see <see cref="LinearStack"/> for the layout
/// (fc0.weight [h0, in], fc0.bias [h0], fc1.weight …).
/// </summary>
internal sealed class MlpDefinition : IModelDefinition
{
    public string Type => ModelSpec.Mlp;

    public IReadOnlyList<ParameterTensor> Layout(ModelSpec m)
    {
        var layout = new List<ParameterTensor>();
        LinearStack.AddLayout(layout, "fc", m.InputSize, m.HiddenSizes, m.OutputSize);
        return layout;
    }

    public long ParameterCount(ModelSpec m) => LinearStack.ParameterCount(m.InputSize, m.HiddenSizes, m.OutputSize);

    /// <summary>Σ 2·in·out over the layers.</summary>
    public long ForwardFlopsPerSample(ModelSpec m) => LinearStack.ForwardFlops(m.InputSize, m.HiddenSizes, m.OutputSize);

    public int FeaturesPerSample(ModelSpec m) => m.InputSize;

    public int TargetsPerSample(ModelSpec m) => ModelChecks.Targets(m);

    public int OutputsPerSample(ModelSpec m) => m.OutputSize;

    /// <summary>The input, then pre- and post-activation of each hidden layer, the outputs and their gradient.</summary>
    public long ActivationFloatsPerSample(ModelSpec m) => m.InputSize + LinearStack.ActivationFloats(m.HiddenSizes, m.OutputSize);

    public IEnumerable<SpecError> Validate(ModelSpec m)
    {
        var errors = new List<SpecError>();
        ModelChecks.Range(errors, "model.inputSize", m.InputSize, 1, ModelChecks.MaxWidth);
        ModelChecks.Widths(errors, "model.hiddenSizes", m.HiddenSizes, 0, ModelChecks.MaxHiddenLayers, ModelChecks.MaxWidth);
        ModelChecks.Head(errors, m);
        return errors;
    }
}
