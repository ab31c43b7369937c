using Huginn.Grains.Interfaces.Datasets;
using Huginn.Workloads;
using Microsoft.Extensions.DependencyInjection;

namespace Huginn.Grains.Datasets;

[GenerateSerializer, Alias("huginn.dataset-state")]
public sealed class DatasetState
{
    [Id(0)] public DatasetDeclaration? Declaration { get; set; }
    [Id(1)] public DatasetStatus Status { get; set; }
    /// <summary>Chunk index → its blob id; null until it arrives.</summary>
    [Id(2)] public string?[] ChunkIds { get; set; } = [];
    [Id(3)] public DatasetFacts? Facts { get; set; }
    [Id(4)] public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A dataset's manifest (ids, sizes, facts); see <see cref="IDatasetGrain"/>.</summary>
public sealed class DatasetGrain(
    [PersistentState("dataset", StorageNames.State)] IPersistentState<DatasetState> state,
    [FromKeyedServices(PoolClock.Key)] TimeProvider time) : Grain, IDatasetGrain
{
    private DatasetState S => state.State;

    public async Task<bool> CreateAsync(DatasetDeclaration declaration)
    {
        if (S.Declaration is not null) return false;
        S.Declaration = declaration;
        S.Status = DatasetStatus.Uploading;
        S.ChunkIds = new string?[declaration.ChunkCount];
        S.CreatedAt = time.GetUtcNow();
        await state.WriteStateAsync();
        return true;
    }

    public Task<DatasetView?> GetAsync() => Task.FromResult(View());

    public async Task<ChunkOutcome> RecordChunkAsync(int index, string blobId)
    {
        if (S.Declaration is null || index < 0 || index >= S.ChunkIds.Length) return ChunkOutcome.NoSuchDataset;
        if (S.ChunkIds[index] == blobId) return ChunkOutcome.Recorded;
        if (S.Status == DatasetStatus.Ready) return ChunkOutcome.AlreadyFinalized;
        if (S.ChunkIds[index] is not null) return ChunkOutcome.DifferentBytes;
        S.ChunkIds[index] = blobId;
        await state.WriteStateAsync();
        return ChunkOutcome.Recorded;
    }

    public async Task<bool> FinalizeAsync(DatasetFacts facts)
    {
        if (S.Declaration is null || S.ChunkIds.Any(id => id is null)) return false;
        if (S.Status == DatasetStatus.Ready) return true;
        S.Status = DatasetStatus.Ready;
        S.Facts = facts;
        await state.WriteStateAsync();
        return true;
    }

    public async Task<DatasetView?> DeleteAsync()
    {
        var view = View();
        if (view is null) return null;
        await state.ClearStateAsync();
        DeactivateOnIdle();
        return view;
    }

    private DatasetView? View() => S.Declaration is null
        ? null
        : new DatasetView(this.GetPrimaryKeyString(), S.Declaration, S.Status, [.. S.ChunkIds], S.Facts, S.CreatedAt);
}
