namespace Huginn.Workloads;

/// <summary>
/// A dataset generated on the device from a seed, so that no data travels. Sample i depends only on
/// (<see cref="Seed"/>, i); <see cref="SyntheticData"/> defines the generators.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.synthetic-dataset-spec")]
public sealed record SyntheticDatasetSpec
{
    /// <summary>Regression targets from a fixed random teacher network, plus noise.</summary>
    public const string Teacher = "teacher";
    /// <summary>Gaussian blobs, one per class.</summary>
    public const string Blobs = "blobs";

    /// <summary>"teacher" (default) or "blobs".</summary>
    [Id(0)] public string Kind { get; init; } = Teacher;
    [Id(1)] public long Samples { get; init; }
    [Id(2)] public ulong Seed { get; init; }
    /// <summary>Standard deviation of the Gaussian noise (for a transformer's blobs: the share of random tokens).</summary>
    [Id(3)] public double Noise { get; init; } = 0.1;
}
