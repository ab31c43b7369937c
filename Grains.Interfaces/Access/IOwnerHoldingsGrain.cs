namespace Huginn.Grains.Interfaces.Access;

/// <summary>
/// What one account holds at the edge, and its quotas on it: the devices it registered (with the key of each one's
/// current token, so that the owner can revoke or rotate it) and the bytes of the blobs it uploaded. Key: the
/// account id. The limits come from the Api's configuration with each call, so that changing them needs no migration.
/// </summary>
[Alias("huginn.IOwnerHoldingsGrain")]
public interface IOwnerHoldingsGrain : IGrainWithStringKey
{
    /// <summary>Takes a device place; false when the account has <paramref name="maxDevices"/> already. Idempotent per device.</summary>
    [Alias("try-add-device")]
    Task<bool> TryAddDeviceAsync(string deviceId, int maxDevices);

    /// <summary>Gives a device place back (a registration the device grain refused).</summary>
    [Alias("remove-device")]
    Task RemoveDeviceAsync(string deviceId);

    /// <summary>Records the credential grain key of a device's current token; returns the previous one, if any.</summary>
    [Alias("replace-device-token")]
    Task<string?> ReplaceDeviceTokenAsync(string deviceId, string? credentialKey);

    /// <summary>Bytes of the blobs this account holds.</summary>
    [Alias("blob-bytes")]
    Task<long> BlobBytesAsync();

    /// <summary>Counts a blob against the account's quota; false (nothing counted) when it would pass <paramref name="maxBytes"/>.
    /// A blob counted already costs nothing again.</summary>
    [Alias("try-add-blob")]
    Task<bool> TryAddBlobAsync(string blobId, long bytes, long maxBytes);
}
