namespace Huginn.Workloads;

/// <summary>How <see cref="ModelInitializer"/> fills a parameter tensor.</summary>
[GenerateSerializer, Alias("huginn.parameter-init")]
public enum ParameterInit
{
    /// <summary>Uniform in ±1/sqrt(FanIn), as PyTorch's nn.Linear and nn.Conv2d do for weights and biases.</summary>
    Uniform = 0,
    /// <summary>All ones (LayerNorm weights).</summary>
    Ones = 1,
    /// <summary>All zeros (LayerNorm biases).</summary>
    Zeros = 2,
    /// <summary>Standard normal (embeddings, as nn.Embedding does).</summary>
    Normal = 3,
}
