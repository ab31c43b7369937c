using Huginn.Grains.Interfaces.Jobs;

namespace Huginn.Grains.Jobs;

[GenerateSerializer, Alias("huginn.owner-jobs-state")]
public sealed class OwnerJobsState
{
    /// <summary>The account's jobs in the order they were recorded (ascending <see cref="OwnerJobEntry.Sequence"/>).</summary>
    [Id(0)] public List<OwnerJobEntry> Jobs { get; set; } = [];

    [Id(1)] public long LastSequence { get; set; }
}

[GenerateSerializer, Alias("huginn.owner-job-entry")]
public sealed class OwnerJobEntry
{
    /// <summary>
    /// Gives the order and the cursor: a page continues below the last sequence number it listed, so jobs created
    /// while a client pages (higher numbers) never shift the pages it has still to read.
    /// </summary>
    [Id(0)] public long Sequence { get; set; }
    [Id(1)] public OwnedJob Job { get; set; } = null!;
}

/// <summary>An account's jobs, newest first, filtered by state (<see cref="IOwnerJobsGrain"/>).</summary>
public sealed class OwnerJobsGrain(
    [PersistentState("owner-jobs", StorageNames.State)] IPersistentState<OwnerJobsState> state) : Grain, IOwnerJobsGrain
{
    public const int MaxLimit = 200;

    private Dictionary<string, OwnerJobEntry>? _byId;
    private Dictionary<string, OwnerJobEntry> ById => _byId ??= state.State.Jobs.ToDictionary(e => e.Job.JobId);

    public async Task RecordAsync(OwnedJob job)
    {
        if (ById.TryGetValue(job.JobId, out var known))
        {
            if (known.Job == job) return;
            // Only the state moves; the job's creation fixed the rest.
            known.Job = known.Job with { Status = job.Status };
        }
        else
        {
            var entry = new OwnerJobEntry { Sequence = ++state.State.LastSequence, Job = job };
            state.State.Jobs.Add(entry);
            ById[job.JobId] = entry;
        }
        await state.WriteStateAsync();
    }

    public Task<OwnedJobPage> ListAsync(OwnedJobQuery query)
    {
        var limit = Math.Clamp(query.Limit, 1, MaxLimit);
        var page = new List<OwnerJobEntry>(limit);
        var more = false;
        var jobs = state.State.Jobs;
        for (var i = StartBelow(jobs, query.Before); i >= 0; i--)
        {
            var entry = jobs[i];
            if (query.States.Length > 0 && !query.States.Contains(entry.Job.Status)) continue;
            if (page.Count == limit)
            {
                more = true;
                break;
            }
            page.Add(entry);
        }
        return Task.FromResult(new OwnedJobPage([.. page.Select(e => e.Job)], more ? page[^1].Sequence : null));
    }

    /// <summary>The index of the newest job recorded before <paramref name="before"/> (binary search: sequences ascend).</summary>
    private static int StartBelow(List<OwnerJobEntry> jobs, long? before)
    {
        if (before is not { } limit) return jobs.Count - 1;
        int low = 0, high = jobs.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (jobs[middle].Sequence < limit) low = middle + 1;
            else high = middle;
        }
        return low - 1;
    }
}
