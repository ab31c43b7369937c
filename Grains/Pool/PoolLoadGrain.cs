using Huginn.Grains.Interfaces.Pool;

namespace Huginn.Grains.Pool;

[GenerateSerializer, Alias("huginn.pool-load-state")]
public sealed class PoolLoadState
{
    [Id(0)] public Dictionary<string, JobLoad> Jobs { get; set; } = [];
}

/// <summary>The queue of accepted work; one report per job per round keeps it off the per-shard path.</summary>
public sealed class PoolLoadGrain(
    [PersistentState("pool-load", StorageNames.State)] IPersistentState<PoolLoadState> state) : Grain, IPoolLoadGrain
{
    public async Task ReportAsync(JobLoad load)
    {
        var changed = load.Active ? !state.State.Jobs.TryGetValue(load.JobId, out var old) || old != load : state.State.Jobs.Remove(load.JobId);
        if (load.Active) state.State.Jobs[load.JobId] = load;
        if (changed) await state.WriteStateAsync();
    }

    public Task<PoolLoad> GetAsync()
    {
        var jobs = state.State.Jobs.Values;
        return Task.FromResult(new PoolLoad(jobs.Count, jobs.Sum(j => (long)j.RemainingShards), jobs.Sum(j => j.RemainingFlops)));
    }
}
