using Huginn.Grains.Interfaces.Access;

namespace Huginn.Grains.Access;

[GenerateSerializer, Alias("huginn.idempotency-state")]
public sealed class IdempotencyState
{
    [Id(0)] public string? Fingerprint { get; set; }
    [Id(1)] public string? JobId { get; set; }
}

/// <summary>One Idempotency-Key of one account: the first request wins, its retries get its job.</summary>
public sealed class IdempotencyGrain(
    [PersistentState("idempotency", StorageNames.State)] IPersistentState<IdempotencyState> state) : Grain, IIdempotencyGrain
{
    public async Task<string?> ClaimAsync(string requestFingerprint, string proposedJobId)
    {
        if (state.State.JobId is { } existing) return state.State.Fingerprint == requestFingerprint ? existing : null;
        state.State.Fingerprint = requestFingerprint;
        state.State.JobId = proposedJobId;
        await state.WriteStateAsync();
        return proposedJobId;
    }

    public async Task ReleaseAsync(string requestFingerprint, string jobId)
    {
        if (state.State.JobId != jobId || state.State.Fingerprint != requestFingerprint) return;
        state.State.JobId = null;
        state.State.Fingerprint = null;
        await state.ClearStateAsync();
    }
}
