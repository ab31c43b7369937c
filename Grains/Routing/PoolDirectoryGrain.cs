using Huginn.Grains.Interfaces.Routing;

namespace Huginn.Grains.Routing;

/// <summary>The non-empty routing partitions. Soft state, rebuilt from partition reports.</summary>
public sealed class PoolDirectoryGrain : Grain, IPoolDirectoryGrain
{
    private readonly Dictionary<string, PartitionSummary> _partitions = [];
    private long _version;
    private PoolSnapshot? _snapshot;

    public Task ReportAsync(PartitionSummary summary)
    {
        if (summary.DevicesOnline == 0) _partitions.Remove(summary.PartitionKey);
        else _partitions[summary.PartitionKey] = summary;
        _version++;
        _snapshot = null;
        return Task.CompletedTask;
    }

    public Task<PoolSnapshot> GetSnapshotAsync() =>
        Task.FromResult(_snapshot ??= new PoolSnapshot(_version, _partitions.Values.OrderBy(p => p.PartitionKey, StringComparer.Ordinal).ToArray()));
}
