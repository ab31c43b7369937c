namespace Huginn.Grains.Interfaces.Routing;

/// <summary>
/// The list of non-empty routing partitions. Partitions report to it when their membership changes,
/// routers read it when their cached copy misses: it is never on the per-shard path.
/// </summary>
[Alias("huginn.IPoolDirectoryGrain")]
public interface IPoolDirectoryGrain : IGrainWithStringKey
{
    public const string Key = "pool";

    /// <summary>Replaces one partition's summary; an empty partition disappears from the snapshot.</summary>
    [Alias("report")]
    Task ReportAsync(PartitionSummary summary);

    /// <summary>The current snapshot with a version that changes whenever it does.</summary>
    [Alias("snapshot")]
    Task<PoolSnapshot> GetSnapshotAsync();
}
