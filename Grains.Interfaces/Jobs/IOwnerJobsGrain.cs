using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Jobs;

/// <summary>
/// The index of one account's jobs, newest first, with each job's state as the job last reported it. Key: the account
/// id. The job grain records itself when it is created and at each change of state (and again at each activation, which
/// repairs a report that was lost), so that a filtered page is read here and only that page's jobs are asked for their
/// progress: a listing costs one call per listed job, never one per job the account ever ran.
/// </summary>
[Alias("huginn.IOwnerJobsGrain")]
public interface IOwnerJobsGrain : IGrainWithStringKey
{
    /// <summary>Adds the job (the next sequence number) or updates its state; idempotent, writes only on a change.</summary>
    [Alias("record")]
    Task RecordAsync(OwnedJob job);

    /// <summary>One page of the account's jobs, newest first, in the states asked for (all when none), below the cursor.</summary>
    [Alias("list")]
    Task<OwnedJobPage> ListAsync(OwnedJobQuery query);
}

/// <summary>What the index keeps of a job: enough to filter and order, nothing that changes per shard.</summary>
[GenerateSerializer, Immutable, Alias("huginn.owned-job")]
public sealed record OwnedJob(
    [property: Id(0)] string JobId,
    [property: Id(1)] WorkloadKind Kind,
    [property: Id(2)] JobStatus Status,
    [property: Id(3)] DateTimeOffset CreatedAt);

/// <param name="States">The states to list; empty: every state.</param>
/// <param name="Before">Only jobs recorded before this sequence number (the previous page's cursor); null: from the newest.</param>
[GenerateSerializer, Immutable, Alias("huginn.owned-job-query")]
public sealed record OwnedJobQuery(
    [property: Id(0)] JobStatus[] States,
    [property: Id(1)] int Limit,
    [property: Id(2)] long? Before);

/// <param name="Jobs">The page, newest first.</param>
/// <param name="Next">The cursor of the next page (the last listed job's sequence number), null when this page is the last.</param>
[GenerateSerializer, Immutable, Alias("huginn.owned-job-page")]
public sealed record OwnedJobPage(
    [property: Id(0)] OwnedJob[] Jobs,
    [property: Id(1)] long? Next);
