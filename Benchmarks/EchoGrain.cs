namespace Huginn.Benchmarks;

/// <summary>The baseline: the cheapest grain call there is, on the same cluster as the pool.</summary>
[Alias("huginn.bench.IEchoGrain")]
public interface IEchoGrain : IGrainWithIntegerKey
{
    /// <summary>Answers its argument.</summary>
    [Alias("echo")]
    Task<int> EchoAsync(int value);
}

public sealed class EchoGrain : Grain, IEchoGrain
{
    public Task<int> EchoAsync(int value) => Task.FromResult(value);
}
