using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Jobs;

[GenerateSerializer, Alias("huginn.job-status")]
public enum JobStatus
{
    /// <summary>Recorded, escrow being taken.</summary>
    Funding = 0,
    Queued = 1,
    Running = 2,
    Completed = 3,
    Failed = 4,
    Cancelled = 5,
}

/// <summary>Names one run of one shard: a re-run after a dispute is a new attempt.</summary>
[GenerateSerializer, Immutable, Alias("huginn.shard-ref")]
public sealed record ShardRef(
    [property: Id(0)] string JobId,
    [property: Id(1)] int Round,
    [property: Id(2)] int Index,
    [property: Id(3)] int Attempt)
{
    public override string ToString() => $"{JobId}/r{Round}/s{Index}/a{Attempt}";
}

[GenerateSerializer, Alias("huginn.verdict")]
public enum Verdict
{
    /// <summary>Audited, and the majority agreed with this device.</summary>
    Verified = 0,
    /// <summary>Audited, and the majority disagreed with this device.</summary>
    Invalid = 1,
    /// <summary>Accepted on this device's word alone; its pay stays pending until it vests.</summary>
    Unaudited = 2,
    /// <summary>No majority: nobody is paid or blamed, the shard is run again.</summary>
    Disputed = 3,
}

/// <summary>Tells a device what verification decided about one of its results.</summary>
[GenerateSerializer, Immutable, Alias("huginn.verdict-notice")]
public sealed record VerdictNotice(
    [property: Id(0)] ShardRef Shard,
    [property: Id(1)] string LeaseId,
    [property: Id(2)] Verdict Verdict);

/// <summary>A client's request to run a job with at most <see cref="MaxMicroHu"/> (null: the estimate).</summary>
[GenerateSerializer, Immutable, Alias("huginn.job-submission")]
public sealed record JobSubmission(
    [property: Id(0)] string ClientAccountId,
    [property: Id(1)] JobSpec Spec,
    [property: Id(2)] long? MaxMicroHu);

[GenerateSerializer, Immutable, Alias("huginn.job-progress")]
public sealed record JobProgress(
    [property: Id(0)] int ShardsTotal,
    [property: Id(1)] int ShardsDone,
    [property: Id(2)] int ShardsVerified,
    [property: Id(3)] int Round,
    [property: Id(4)] int Rounds);

/// <summary>A job as its owner sees it.</summary>
[GenerateSerializer, Immutable, Alias("huginn.job-view")]
public sealed record JobView
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public required string OwnerAccountId { get; init; }
    [Id(2)] public required JobStatus Status { get; init; }
    [Id(3)] public required JobProgress Progress { get; init; }
    [Id(4)] public required CostEstimate Estimate { get; init; }
    [Id(5)] public required long EscrowMicroHu { get; init; }
    [Id(6)] public required long SpentMicroHu { get; init; }
    [Id(7)] public required long RefundedMicroHu { get; init; }
    /// <summary>Mean training loss of each completed round, weighted by samples.</summary>
    [Id(8)] public required double[] RoundLosses { get; init; }
    [Id(9)] public string? FailureReason { get; init; }
    [Id(10)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(11)] public DateTimeOffset? FinishedAt { get; init; }
    /// <summary>Devices caught returning invalid results while running this job.</summary>
    [Id(12)] public required string[] DevicesCaught { get; init; }
    [Id(13)] public required JobSpec Spec { get; init; }
    /// <summary>The estimate's ETA and HU price as quoted at submission: a job is priced once, then never again.</summary>
    [Id(14)] public double EstimatedEtaSeconds { get; init; }
    [Id(15)] public decimal EurPerHu { get; init; }
    /// <summary>
    /// Validation loss and accuracy of each training round's weights (spec.validation), NaN where not evaluated yet,
    /// not evaluable (a failed evaluation) or, for accuracy, an mse model. Empty for a job without a validation split.
    /// </summary>
    [Id(16)] public double[] ValidationLosses { get; init; } = [];
    [Id(17)] public double[] ValidationAccuracies { get; init; } = [];

    public bool IsFinished => Status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled;
}

/// <summary>Outcome of a submission: the job, or why it was refused (nothing was charged then).</summary>
[GenerateSerializer, Immutable, Alias("huginn.job-submission-result")]
public sealed record JobSubmissionResult(
    [property: Id(0)] JobView? Job,
    [property: Id(1)] IReadOnlyList<SpecError> Errors,
    [property: Id(2)] JobRefusal Refusal)
{
    public bool Succeeded => Job is not null;
}

[GenerateSerializer, Alias("huginn.job-refusal")]
public enum JobRefusal
{
    None = 0,
    InvalidSpec = 1,
    InsufficientBalance = 2,
    BudgetBelowEstimateMinimum = 3,
    AlreadyExists = 4,
}

/// <summary>
/// What a finished job produced, by reference: the final weights (train), or the shards' outputs (infer) or
/// prepared bytes (prep) in shard order, each a blob whose bytes the Api streams to the client one after the other.
/// (Ids 1 and 2 carried the values and bytes inline; do not reuse them.)
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.job-result")]
/// <param name="RoundsCompleted">
/// Rounds whose result this is: all of them for a completed job; for a training job that failed or was cancelled, the
/// rounds its last checkpoint holds (the weights after them, kept for the client and for <c>weightsFromJobId</c>).
/// </param>
public sealed record JobResult(
    [property: Id(0)] WorkloadKind Kind,
    [property: Id(4)] string[] BlobIds,
    [property: Id(5)] long Bytes,
    [property: Id(3)] double[] RoundLosses,
    [property: Id(6)] int RoundsCompleted = 0);
