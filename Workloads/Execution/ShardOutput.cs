namespace Huginn.Workloads;

/// <summary>
/// What a device returns for a shard. train: <see cref="Values"/> is the weight delta (final − start) in layout
/// order and <see cref="Loss"/> the mean training loss over the local steps. infer: <see cref="Values"/> holds the
/// outputs, one row of OutputSize per sample. prep: <see cref="Bytes"/> holds the prepared data. Unused fields are
/// empty, and Loss is NaN outside train.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.shard-output")]
public sealed record ShardOutput(
    [property: Id(0)] float[] Values,
    [property: Id(1)] byte[] Bytes,
    [property: Id(2)] double Loss,
    [property: Id(3)] long Samples)
{
    /// <summary>An empty output, for object-initializer syntax.</summary>
    public ShardOutput() : this([], [], double.NaN, 0)
    {
    }
}
