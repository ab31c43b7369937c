namespace Huginn.Blobs;

/// <summary>
/// Who holds a blob (<see cref="IBlobStore.AddReferenceAsync"/>): one naming for the Api and the grains, so that
/// what one side references the other can release.
/// </summary>
public static class BlobHolders
{
    /// <summary>A running job: its inputs, round checkpoints and accepted results.</summary>
    public static string Job(string jobId) => $"job:{jobId}";

    /// <summary>A finished job's result: the final (or last) weights, or the outputs, kept for the client to download.</summary>
    public static string Result(string jobId) => $"result:{jobId}";

    /// <summary>A dataset's chunks, held until the dataset is deleted (a job reading them holds them too, as "job:").</summary>
    public static string Dataset(string datasetId) => $"dataset:{datasetId}";

    /// <summary>What an account uploaded (datasets, weights).</summary>
    public static string Account(string accountId) => $"account:{accountId}";
}
