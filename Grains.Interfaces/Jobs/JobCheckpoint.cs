namespace Huginn.Grains.Interfaces.Jobs;

/// <summary>
/// The weights of a training job after one of its completed rounds (1-based), by reference: a blob of flat f32
/// values in layout order, held for the client as long as the job's results are (<c>BlobHolders.Result</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.job-checkpoint")]
public sealed record JobCheckpoint(
    [property: Id(0)] int Round,
    [property: Id(1)] string BlobId,
    [property: Id(2)] long Bytes,
    [property: Id(3)] DateTimeOffset CreatedAt);
