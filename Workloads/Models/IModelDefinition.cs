namespace Huginn.Workloads;

/// <summary>
/// What the coordinator knows about a model type without running it: the layout of its flat parameter vector,
/// sizes, and FLOP and memory formulas. The TorchSharp worker builds the same network and loads the flat vector
/// in <see cref="Layout"/> order. Every method assumes <see cref="Validate"/> returned no errors.
/// </summary>
public interface IModelDefinition
{
    /// <summary>The registry key: "mlp", "cnn" or "transformer".</summary>
    string Type { get; }

    /// <summary>The parameter tensors in the order they appear in the flat weight vector.</summary>
    IReadOnlyList<ParameterTensor> Layout(ModelSpec m);

    /// <summary>Length of the flat weight vector; equals the sum of <see cref="Layout"/> sizes.</summary>
    long ParameterCount(ModelSpec m);

    /// <summary>Floating-point operations of one forward pass over one sample (a multiply-add counts 2).</summary>
    long ForwardFlopsPerSample(ModelSpec m);

    /// <summary>Floats of input per sample in a data row.</summary>
    int FeaturesPerSample(ModelSpec m);

    /// <summary>Floats of target per sample in a data row: OutputSize under "mse", 1 (the class index) under "cross_entropy".</summary>
    int TargetsPerSample(ModelSpec m);

    /// <summary>Floats the model outputs per sample (the size of the last layer).</summary>
    int OutputsPerSample(ModelSpec m);

    /// <summary>A rough count of the floats a training step keeps per sample for the backward pass; sizes memory.</summary>
    long ActivationFloatsPerSample(ModelSpec m);

    /// <summary>Problems with the spec, with field paths starting at "model."; empty when it can be built.</summary>
    IEnumerable<SpecError> Validate(ModelSpec m);
}
