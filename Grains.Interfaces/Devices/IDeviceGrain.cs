using Huginn.Grains.Interfaces.Jobs;

namespace Huginn.Grains.Interfaces.Devices;

/// <summary>One contributed device: its profile, liveness, open leases and track record.</summary>
[Alias("huginn.IDeviceGrain")]
public interface IDeviceGrain : IGrainWithStringKey
{
    /// <summary>Registers the device for its owner; repeating the same registration is harmless, another owner's is refused.</summary>
    [Alias("register")]
    Task<DeviceRegistrationResult> RegisterAsync(DeviceRegistration registration);

    /// <summary>Marks the device alive (and online, unless banned); returns its status.</summary>
    [Alias("heartbeat")]
    Task<DeviceStatus> HeartbeatAsync(DeviceHeartbeat heartbeat);

    /// <summary>Takes the device offline now; its open leases go back to their jobs.</summary>
    [Alias("disconnect")]
    Task DisconnectAsync();

    /// <summary>
    /// A worker connection (on any Api instance) now speaks for this device: marks it alive and tells any
    /// older connection, through the device's stream, to close.
    /// </summary>
    [Alias("attach-connection")]
    Task<DeviceStatus> AttachConnectionAsync(string connectionId);

    /// <summary>A connection closed; the device goes offline only if that connection was still the current one.</summary>
    [Alias("detach-connection")]
    Task DetachConnectionAsync(string connectionId);

    /// <summary>
    /// The worker gives a lease back unfinished; the job re-leases the shard at once. It costs the device (its
    /// record, a cool-down after too many) and its owner that shard after two (Rules.ReleaseLimit, Round).
    /// </summary>
    /// <param name="reason">The worker's own words on why (already sanitized by the edge, ShardFailureText), or null.</param>
    /// <param name="code">Why, as one of <c>ShardErrorCodes</c> (the edge turns an unknown or missing code into "internal").</param>
    [Alias("release-lease-coded")]
    Task ReleaseLeaseAsync(string leaseId, string? reason, string code);

    /// <summary>
    /// Whether the device may read a blob now: a lease it holds open needs it (the job's dataset, the round's weights).
    /// A device sees the inputs of the shards it computes and nothing else, and only while it computes them.
    /// </summary>
    [Alias("may-read-blob")]
    Task<bool> MayReadBlobAsync(string blobId);

    /// <summary>The device as its owner sees it; null when never registered.</summary>
    [Alias("get")]
    Task<DeviceView?> GetAsync();

    /// <summary>Opens a lease and publishes the assignment, or refuses (offline, banned, full).</summary>
    [Alias("offer")]
    Task<LeaseOffer> OfferAsync(ShardAssignment assignment, ShardRef shard);

    /// <summary>Accepts a result only for a lease this device holds open; closes that lease exactly once.</summary>
    [Alias("submit-result")]
    Task<ResultReceipt> SubmitResultAsync(ShardResult result);

    /// <summary>
    /// The edge refused a result for this lease on its face (its payload did not match its header): the lease is
    /// spent and counted against the device like a malformed result. NotLeased when the lease is not open here.
    /// </summary>
    [Alias("reject-result")]
    Task<ResultReceipt> RejectResultAsync(string leaseId, string reason);

    /// <summary>Closes a lease from the job's side (expired, job ended) and tells the device to stop.</summary>
    [Alias("end-lease")]
    Task EndLeaseAsync(string leaseId, LeaseEndReason reason);

    /// <summary>Applies a verification verdict to the record: invalid ones forfeit pending pay and may ban.</summary>
    [Alias("record-verdict")]
    Task RecordVerdictAsync(VerdictNotice notice);
}

/// <summary>The device's answer to an offer; the audit rate lets the job decide, unseen, whether to audit.</summary>
[GenerateSerializer, Immutable, Alias("huginn.lease-offer")]
public sealed record LeaseOffer(
    [property: Id(0)] bool Accepted,
    [property: Id(1)] double AuditRate);
