using Huginn.Blobs;
using Huginn.Grains.Interfaces.Verification;
using Huginn.Workloads;

namespace Huginn.Grains.Verification;

[GenerateSerializer, Alias("huginn.verification-state")]
public sealed class VerificationState
{
    [Id(0)] public List<VerificationEntry> Entries { get; set; } = [];
    /// <summary>Distances already measured, by "{leaseA}|{leaseB}", so that a third result does not re-read the first two.</summary>
    [Id(1)] public Dictionary<string, double> Distances { get; set; } = [];
}

/// <summary>
/// Gathers the results of one audited shard attempt and applies the verification rule
/// (<see cref="Rules.Verification"/>). Results are references; their distances are measured by streaming the two
/// blobs off the grain's turn, so a model-sized comparison never holds the scheduler or a whole tensor in memory.
/// Entries and distances are persisted so that a decision survives a restart between the first and the last result.
/// </summary>
public sealed class VerificationGrain(
    [PersistentState("verification", StorageNames.State)] IPersistentState<VerificationState> state,
    IBlobStore blobs) : Grain, IVerificationGrain
{
    public async Task<VerificationDecision> AddResultAsync(VerificationEntry entry)
    {
        var entries = state.State.Entries;
        if (!entries.Any(e => e.DeviceId == entry.DeviceId))
        {
            var measured = await Task.Run(() => MeasureAgainstAsync(entry, entries.ToList()));
            foreach (var (key, distance) in measured) state.State.Distances[key] = distance;
            entries.Add(entry);
            await state.WriteStateAsync();
        }
        var distances = state.State.Distances;
        return Rules.Verification.Decide(entries, (a, b) => distances.GetValueOrDefault(Key(a, b), double.PositiveInfinity));
    }

    public async Task ClearAsync()
    {
        await state.ClearStateAsync();
        DeactivateOnIdle();
    }

    /// <summary>The new result's distance to each earlier one (train and infer; prep compares blob ids).</summary>
    private async Task<List<(string Key, double Distance)>> MeasureAgainstAsync(VerificationEntry entry, List<VerificationEntry> earlier)
    {
        var measured = new List<(string, double)>();
        if (entry.Kind == WorkloadKind.Prep) return measured;
        foreach (var other in earlier)
        {
            measured.Add((Key(other, entry), await DistanceAsync(other.Result.BlobId, entry.Result.BlobId)));
        }
        return measured;
    }

    private async Task<double> DistanceAsync(string a, string b)
    {
        if (a == b) return 0;
        await using var first = await blobs.OpenReadAsync(a);
        await using var second = await blobs.OpenReadAsync(b);
        // A result whose blob is gone cannot be checked: it never agrees with anything.
        if (first is null || second is null) return double.PositiveInfinity;
        return await F32Streams.RelativeL2Async(first, second);
    }

    private static string Key(VerificationEntry a, VerificationEntry b) =>
        string.CompareOrdinal(a.LeaseId, b.LeaseId) < 0 ? $"{a.LeaseId}|{b.LeaseId}" : $"{b.LeaseId}|{a.LeaseId}";
}
