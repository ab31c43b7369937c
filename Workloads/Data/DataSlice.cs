namespace Huginn.Workloads;

/// <summary>
/// Consecutive samples of a dataset: <see cref="Count"/> rows of features and of targets, each row-major.
/// Class indices are stored as floats.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.data-slice")]
public sealed record DataSlice(
    [property: Id(0)] float[] Features,
    [property: Id(1)] float[] Targets,
    [property: Id(2)] int Count,
    [property: Id(3)] int FeaturesPerSample,
    [property: Id(4)] int TargetsPerSample)
{
    public ReadOnlySpan<float> FeaturesOf(int sample) => Features.AsSpan(sample * FeaturesPerSample, FeaturesPerSample);

    public ReadOnlySpan<float> TargetsOf(int sample) => Targets.AsSpan(sample * TargetsPerSample, TargetsPerSample);
}
