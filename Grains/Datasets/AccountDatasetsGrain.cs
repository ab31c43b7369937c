using Huginn.Grains.Interfaces.Datasets;

namespace Huginn.Grains.Datasets;

[GenerateSerializer, Alias("huginn.account-datasets-state")]
public sealed class AccountDatasetsState
{
    /// <summary>Dataset id → the bytes it reserves, in creation order.</summary>
    [Id(0)] public List<KeyValuePair<string, long>> Datasets { get; set; } = [];
}

/// <summary>An account's datasets and their reserved bytes; see <see cref="IAccountDatasetsGrain"/>.</summary>
public sealed class AccountDatasetsGrain(
    [PersistentState("datasets", StorageNames.State)] IPersistentState<AccountDatasetsState> state) : Grain, IAccountDatasetsGrain
{
    private List<KeyValuePair<string, long>> Datasets => state.State.Datasets;

    public async Task<bool> TryReserveAsync(string datasetId, long bytes, long maxBytes, int maxDatasets)
    {
        if (Datasets.Any(d => d.Key == datasetId)) return true;
        if (Datasets.Count >= maxDatasets || Datasets.Sum(d => d.Value) + bytes > maxBytes) return false;
        Datasets.Add(new(datasetId, bytes));
        await state.WriteStateAsync();
        return true;
    }

    public async Task ReleaseAsync(string datasetId)
    {
        if (Datasets.RemoveAll(d => d.Key == datasetId) > 0) await state.WriteStateAsync();
    }

    public Task<string[]> ListAsync() => Task.FromResult(Datasets.Select(d => d.Key).ToArray());

    public Task<long> ReservedBytesAsync() => Task.FromResult(Datasets.Sum(d => d.Value));
}
