using Huginn.Grains.Interfaces.Access;

namespace Huginn.Grains.Access;

[GenerateSerializer, Alias("huginn.credential-state")]
public sealed class CredentialState
{
    [Id(0)] public Credential? Credential { get; set; }
    [Id(1)] public bool Revoked { get; set; }
}

/// <summary>Maps a hashed secret to what it opens.</summary>
public sealed class CredentialGrain(
    [PersistentState("credential", StorageNames.State)] IPersistentState<CredentialState> state) : Grain, ICredentialGrain
{
    public async Task<bool> IssueAsync(Credential credential)
    {
        if (state.State.Credential is { } existing) return existing == credential && !state.State.Revoked;
        state.State.Credential = credential;
        await state.WriteStateAsync();
        return true;
    }

    public Task<Credential?> ResolveAsync() => Task.FromResult(state.State.Revoked ? null : state.State.Credential);

    public async Task RevokeAsync()
    {
        state.State.Revoked = true;
        await state.WriteStateAsync();
    }
}
