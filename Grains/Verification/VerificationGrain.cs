using Huginn.Grains.Interfaces.Verification;

namespace Huginn.Grains.Verification;

[GenerateSerializer, Alias("huginn.verification-state")]
public sealed class VerificationState
{
    [Id(0)] public List<VerificationEntry> Entries { get; set; } = [];
}

/// <summary>
/// Gathers the results of one audited shard attempt and applies the verification rule (<see cref="Rules.Verification"/>). Results are
/// persisted so that a decision survives a restart between the first and the last result.
/// </summary>
public sealed class VerificationGrain(
    [PersistentState("verification", StorageNames.State)] IPersistentState<VerificationState> state) : Grain, IVerificationGrain
{
    public async Task<VerificationDecision> AddResultAsync(VerificationEntry entry)
    {
        var entries = state.State.Entries;
        if (!entries.Any(e => e.DeviceId == entry.DeviceId))
        {
            entries.Add(entry);
            await state.WriteStateAsync();
        }
        // Comparing large tensors is CPU work: run it off the grain's scheduler so the turn stays short.
        var snapshot = entries.ToArray();
        return snapshot.Sum(e => (long)e.Output.Values.Length) > 65_536
            ? await Task.Run(() => Rules.Verification.Decide(snapshot))
            : Rules.Verification.Decide(snapshot);
    }

    public async Task ClearAsync()
    {
        await state.ClearStateAsync();
        DeactivateOnIdle();
    }
}
