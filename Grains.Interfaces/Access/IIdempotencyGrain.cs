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

    /// <summary>
    /// Lets go of a claim whose request was refused (no job was created), so that a corrected request may use the
    /// key. Only the claim of that fingerprint and job id is released; anything else is left as it is.
    /// </summary>
    [Alias("release")]
    Task ReleaseAsync(string requestFingerprint, string jobId);
}
