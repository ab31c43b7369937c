namespace Huginn.Cli.Http;

// The dataset answers as the CLI reads them (POST/GET /v1/datasets; docs/DATASETS.md).

public sealed record DatasetFacts(long Rows, double? TargetMin, double? TargetMax, bool TargetsAreIntegers);

public sealed record Dataset(
    string DatasetId, string Name, string Format, int? FeaturesPerSample, int? TargetsPerSample, long TotalBytes, long ChunkBytes,
    int ChunkCount, long MaxChunkBytes, string State, int ChunksReceived, int[] MissingChunks, DatasetFacts? Facts, DateTimeOffset CreatedAt,
    string? Sha256)
{
    public const string Ready = "ready";
}

public sealed record DatasetList(Dataset[] Datasets);
