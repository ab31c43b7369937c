using Huginn.Grains.Interfaces.Devices;
using Orleans.Concurrency;

namespace Huginn.Grains.Interfaces.Jobs;

/// <summary>One client job: its spec, rounds, shards and leases, its escrow and its progress.</summary>
[Alias("huginn.IJobGrain")]
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Validates, prices and escrows the job, then starts dispatching; refuses without charging on any error.</summary>
    [Alias("submit")]
    Task<JobSubmissionResult> SubmitAsync(JobSubmission submission);

    /// <summary>The job as its owner sees it; null for an unknown id.</summary>
    [Alias("get")]
    Task<JobView?> GetAsync();

    /// <summary>Stops the job, revokes its leases and refunds exactly the unspent escrow.</summary>
    [Alias("cancel")]
    Task<JobView?> CancelAsync();

    /// <summary>The final result once completed; null before.</summary>
    [Alias("get-result")]
    Task<JobResult?> GetResultAsync();

    /// <summary>A training job's checkpoints, one per completed round in round order; empty for other kinds and before the first round.</summary>
    [Alias("get-checkpoints")]
    Task<JobCheckpoint[]> GetCheckpointsAsync();

    /// <summary>
    /// A device delivered a well-formed result for one of this job's leases. Called by the device grain only,
    /// one-way: a job may wait on a device, never the other way round. A lost call ends as an expired lease.
    /// </summary>
    [OneWay, Alias("deliver-result")]
    Task DeliverResultAsync(string leaseId, string deviceId, ResultRef result);

    /// <summary>
    /// A lease ended without a usable result (device offline or banned, or a malformed output, which counts
    /// as an invalid result): the shard goes to another device. One-way, like <see cref="DeliverResultAsync"/>.
    /// </summary>
    /// <param name="detail">What the device or the pool said about it (a worker's release reason, a malformed result's problem), or null.</param>
    /// <param name="code">A release's error code (<c>ShardErrorCodes</c>); null for a loss that is not a release.</param>
    [OneWay, Alias("lease-lost-coded")]
    Task LeaseLostAsync(string leaseId, string deviceId, LeaseEndReason reason, bool malformed, string? detail, string? code);
}
