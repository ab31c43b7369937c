namespace Huginn.Workloads;

/// <summary>
/// One tensor of a model's flat parameter vector: its name (PyTorch-style, for humans and logs), shape
/// (row-major), the fan-in that scales its initialisation, and how it is initialised.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.parameter-tensor")]
public sealed record ParameterTensor(
    [property: Id(0)] string Name,
    [property: Id(1)] int[] Shape,
    [property: Id(2)] int FanIn,
    [property: Id(3)] ParameterInit Init = ParameterInit.Uniform)
{
    /// <summary>Number of floats: the product of the shape.</summary>
    public long Size
    {
        get
        {
            var size = 1L;
            foreach (var dimension in Shape) size = checked(size * dimension);
            return size;
        }
    }
}
