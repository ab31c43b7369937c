using Huginn.Grains.Interfaces.Access;

namespace Huginn.Grains.Access;

[GenerateSerializer, Alias("huginn.owner-holdings-state")]
public sealed class OwnerHoldingsState
{
    /// <summary>Device id → the credential grain key of its current token (null: revoked, or not yet issued).</summary>
    [Id(0)] public Dictionary<string, string?> Devices { get; set; } = [];

    /// <summary>Blob id → its bytes, each counted once.</summary>
    [Id(1)] public Dictionary<string, long> Blobs { get; set; } = [];

    [Id(2)] public long BlobBytes { get; set; }
}

/// <summary>An account's devices and blob bytes against its quotas (issue 12: findings 6 and 12).</summary>
public sealed class OwnerHoldingsGrain(
    [PersistentState("holdings", StorageNames.State)] IPersistentState<OwnerHoldingsState> state) : Grain, IOwnerHoldingsGrain
{
    public async Task<bool> TryAddDeviceAsync(string deviceId, int maxDevices)
    {
        if (state.State.Devices.ContainsKey(deviceId)) return true;
        if (state.State.Devices.Count >= maxDevices) return false;
        state.State.Devices[deviceId] = null;
        await state.WriteStateAsync();
        return true;
    }

    public async Task RemoveDeviceAsync(string deviceId)
    {
        if (state.State.Devices.Remove(deviceId)) await state.WriteStateAsync();
    }

    public async Task<string?> ReplaceDeviceTokenAsync(string deviceId, string? credentialKey)
    {
        state.State.Devices.TryGetValue(deviceId, out var previous);
        state.State.Devices[deviceId] = credentialKey;
        await state.WriteStateAsync();
        return previous;
    }

    public Task<long> BlobBytesAsync() => Task.FromResult(state.State.BlobBytes);

    public async Task<bool> TryAddBlobAsync(string blobId, long bytes, long maxBytes)
    {
        if (state.State.Blobs.ContainsKey(blobId)) return true;
        if (state.State.BlobBytes + bytes > maxBytes) return false;
        state.State.Blobs[blobId] = bytes;
        state.State.BlobBytes += bytes;
        await state.WriteStateAsync();
        return true;
    }
}
