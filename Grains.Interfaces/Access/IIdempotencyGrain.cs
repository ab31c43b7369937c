namespace Huginn.Grains.Interfaces.Access;

/// <summary>
/// Remembers which job an (account, Idempotency-Key) pair created, so that a retried submission returns the
/// same job instead of charging twice. Key: "{accountId}/{idempotency key}".
/// </summary>
[Alias("huginn.IIdempotencyGrain")]
public interface IIdempotencyGrain : IGrainWithStringKey
{
    /// <summary>
    /// Claims the key for a request with this fingerprint. Returns the job id already bound to the key
    /// (same fingerprint), the proposed one (first claim), or null when the key was used for another request.
    /// </summary>
    [Alias("claim")]
    Task<string?> ClaimAsync(string requestFingerprint, string proposedJobId);
}
