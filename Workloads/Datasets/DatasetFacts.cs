namespace Huginn.Workloads;

/// <summary>
/// What finalizing a dataset learned from its bytes (<see cref="DatasetScanner"/>), so that a job can be refused at
/// submission for what its data holds (labels out of the model's range, too few samples), not on its devices.
/// </summary>
/// <param name="FeaturesPerRow">f32 formats: features per row, as declared; 0 for token formats.</param>
/// <param name="TargetsPerRow">"f32": target columns per row, as declared; 0 otherwise.</param>
/// <param name="Rows">f32 formats: rows; token formats: tokens.</param>
/// <param name="TargetMin">"f32": the smallest target value; token formats: the smallest token id. NaN when there is none.</param>
/// <param name="TargetMax">"f32": the largest target value; token formats: the largest token id. NaN when there is none.</param>
/// <param name="TargetsAreIntegers">Every target (or token id) is a whole number, so it can be a class index.</param>
[GenerateSerializer, Immutable, Alias("huginn.dataset-facts")]
public sealed record DatasetFacts(
    [property: Id(0)] string Format,
    [property: Id(1)] int FeaturesPerRow,
    [property: Id(2)] int TargetsPerRow,
    [property: Id(3)] long TotalBytes,
    [property: Id(4)] long Rows,
    [property: Id(5)] double TargetMin,
    [property: Id(6)] double TargetMax,
    [property: Id(7)] bool TargetsAreIntegers);
