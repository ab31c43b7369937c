using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Verification;

/// <summary>
/// Collects the results of one audited shard attempt from two or three devices and decides who was right.
/// Key: the <see cref="ShardRef"/> string.
/// </summary>
[Alias("huginn.IVerificationGrain")]
public interface IVerificationGrain : IGrainWithStringKey
{
    /// <summary>Adds one device's result (idempotent per device) and returns the decision so far.</summary>
    [Alias("add-result")]
    Task<VerificationDecision> AddResultAsync(VerificationEntry entry);

    /// <summary>Forgets the results once the job has acted on the decision.</summary>
    [Alias("clear")]
    Task ClearAsync();
}

[GenerateSerializer, Immutable, Alias("huginn.verification-entry")]
public sealed record VerificationEntry(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] string LeaseId,
    [property: Id(2)] WorkloadKind Kind,
    [property: Id(3)] double Tolerance,
    // Id 4 carried the output inline; the result stays in the blob store. Do not reuse 4.
    [property: Id(5)] ResultRef Result);

[GenerateSerializer, Alias("huginn.verification-status")]
public enum VerificationStatus
{
    /// <summary>Fewer than two results so far.</summary>
    AwaitingResults = 0,
    /// <summary>Two results disagree: a third device must break the tie.</summary>
    NeedsTieBreak = 1,
    /// <summary>A majority agrees within tolerance.</summary>
    Decided = 2,
    /// <summary>Three results and no two agree: nobody is paid, the shard runs again.</summary>
    Disputed = 3,
}

/// <summary>The decision on one audited shard attempt.</summary>
[GenerateSerializer, Immutable, Alias("huginn.verification-decision")]
public sealed record VerificationDecision(
    [property: Id(0)] VerificationStatus Status,
    [property: Id(1)] string[] Winners,
    [property: Id(2)] string[] Losers,
    /// <summary>Relative distances measured, for calibration and the record.</summary>
    [property: Id(4)] double[] Distances,
    /// <summary>
    /// The result the job should use: the first-submitted member of the majority, by reference (Id 3 echoed the
    /// output itself back; do not reuse it).
    /// </summary>
    [property: Id(5)] ResultRef? Accepted)
{
    public static VerificationDecision Awaiting { get; } = new(VerificationStatus.AwaitingResults, [], [], [], null);
}
