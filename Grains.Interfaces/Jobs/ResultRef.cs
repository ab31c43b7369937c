namespace Huginn.Grains.Interfaces.Jobs;

/// <summary>
/// A device's result for one lease, named by its blob: the bytes (float32 values little-endian, then raw bytes for
/// prep; <see cref="Huginn.Workloads.OutputShape"/>) live in the blob store, and only this travels between grains.
/// The edge checked the size and that every value is finite before any grain saw it; the id is the SHA-256 of
/// the bytes, so two results with the same id are the same bytes.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.result-ref")]
public sealed record ResultRef(
    [property: Id(0)] string BlobId,
    [property: Id(1)] long Bytes,
    /// <summary>Train: the mean training loss over the local steps; NaN for infer and prep.</summary>
    [property: Id(2)] double Loss,
    [property: Id(3)] long Samples);
