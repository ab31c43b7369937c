using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Workloads;

namespace Huginn.Grains.Jobs;

[GenerateSerializer, Alias("huginn.job-state")]
public sealed class JobState
{
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public string OwnerAccountId { get; set; } = "";
    [Id(2)] public JobSpec? Spec { get; set; }
    [Id(3)] public JobStatus Status { get; set; }
    [Id(4)] public CostEstimate? Estimate { get; set; }
    [Id(5)] public long EscrowMicroHu { get; set; }
    /// <summary>What one accepted result pays its device (from the shard's FLOPs, never from the device).</summary>
    [Id(6)] public long ShardPriceMicroHu { get; set; }
    [Id(7)] public int Rounds { get; set; }
    [Id(8)] public int ShardsPerRound { get; set; }
    // Id 9 held the round number and Id 15 the round's shards: both are in Current (a Round) now. Do not reuse 9 or 15.
    // Ids 10 and 11 held the round's weights and Σ samples·delta inline: model-sized, so they live in the blob store
    // (WeightsBlobId) and in the round's aggregator (RoundAggregator) now. Do not reuse 10 or 11.
    /// <summary>Samples and sample-weighted loss of the current round's verified results (Accept).</summary>
    [Id(12)] public long RoundSamples { get; set; }
    [Id(13)] public double RoundLossSum { get; set; }
    /// <summary>Each finished round's loss over its verified shards; NaN for a round none of whose shards was audited.</summary>
    [Id(14)] public List<double> RoundLosses { get; set; } = [];
    // Id 16 held accepted infer and prep outputs inline; they are blobs named in RoundResults now. Do not reuse 16.
    [Id(17)] public int ShardsDone { get; set; }
    [Id(18)] public int ShardsVerified { get; set; }
    /// <summary>Paid to contributors for accepted work.</summary>
    [Id(19)] public long PaidMicroHu { get; set; }
    [Id(20)] public long FeeMicroHu { get; set; }
    [Id(21)] public long RefundedMicroHu { get; set; }
    /// <summary>Transfers decided but not yet confirmed by the ledger; replayed (idempotently) after a crash.</summary>
    [Id(22)] public List<Transfer> TransferOutbox { get; set; } = [];
    /// <summary>Verdicts decided but not yet applied to their devices.</summary>
    [Id(23)] public List<PendingVerdict> VerdictOutbox { get; set; } = [];
    [Id(24)] public HashSet<string> DevicesCaught { get; set; } = [];
    [Id(25)] public DateTimeOffset CreatedAt { get; set; }
    [Id(26)] public DateTimeOffset? FinishedAt { get; set; }
    [Id(27)] public string? FailureReason { get; set; }
    // Id 28 held a per-lease reserve; the reserve is now computed from the price (CanReserveAnotherLease). Do not reuse 28.
    [Id(29)] public ShardRequirement? Requirement { get; set; }
    /// <summary>
    /// Train: the weights the current round starts from (the last round's checkpoint; the final weights once the job
    /// completed). Infer: the model's weights. Workers download them once per round. Null for prep.
    /// </summary>
    [Id(30)] public string? WeightsBlobId { get; set; }
    /// <summary>The round being run: its shards and leases (<see cref="Jobs.Round"/>).</summary>
    [Id(31)] public Round Current { get; set; } = new();
    /// <summary>The ETA and the HU price quoted at submission, kept so that the job is never priced again.</summary>
    [Id(32)] public double EstimatedEtaSeconds { get; set; }
    [Id(33)] public decimal EurPerHu { get; set; }
    /// <summary>
    /// The current round's accepted results by shard index, by reference: for training, what the round's sum is
    /// re-derived from after a crash; for infer and prep, the job's outputs. A few hundred bytes per shard, whatever
    /// the model's size.
    /// </summary>
    [Id(34)] public Dictionary<int, ResultRef> RoundResults { get; set; } = [];

    /// <summary>
    /// A dataset job's chunk ids, taken from the dataset at submission (ids only): the job holds the chunks, so the
    /// dataset may be deleted while it runs, and each lease names only the chunks its shard reads.
    /// </summary>
    [Id(35)] public DatasetChunkList? DatasetChunks { get; set; }
    /// <summary>
    /// Each round's validation loss and accuracy (<see cref="RoundEvaluation"/>), one entry per training round; NaN where
    /// the round is not evaluated yet, its evaluation failed, or (accuracy) the loss is mse. Empty without a split.
    /// </summary>
    [Id(36)] public List<double> ValidationLosses { get; set; } = [];
    [Id(37)] public List<double> ValidationAccuracies { get; set; } = [];
    /// <summary>What an accepted evaluation result pays (from its FLOPs, <see cref="JobPlan.EvaluationFlops"/>); 0 without a split.</summary>
    [Id(38)] public long EvaluationPriceMicroHu { get; set; }
}

[GenerateSerializer, Alias("huginn.shard-state")]
public sealed class ShardState
{
    [Id(0)] public int Index { get; set; }
    [Id(1)] public int Attempt { get; set; }
    /// <summary>Whether the draw against the first device's audit rate has been made for this attempt.</summary>
    [Id(2)] public bool AuditDecided { get; set; }
    [Id(3)] public bool Audited { get; set; }
    /// <summary>Results this attempt needs: 1 unaudited, 2 audited, 3 after a disagreement.</summary>
    [Id(4)] public int RequiredResults { get; set; } = 1;
    [Id(5)] public bool Done { get; set; }
    [Id(6)] public List<LeaseState> Leases { get; set; } = [];
    /// <summary>Devices that failed this shard (expired, lost, disputed): it goes to someone else.</summary>
    [Id(7)] public HashSet<string> ExcludedDevices { get; set; } = [];
    /// <summary>Leases of this shard that ended without a usable result (expired, given back, malformed).</summary>
    [Id(8)] public int Failures { get; set; }
    /// <summary>
    /// Failures of this shard by owner (a device of theirs let it expire, gave it back or sent a malformed result). An
    /// owner at <see cref="PoolOptions.MaxShardFailuresPerOwner"/> gets it on none of their devices again, and the shard
    /// is exhausted by distinct owners, never by one owner's many devices (Round).
    /// </summary>
    [Id(9)] public Dictionary<string, int> OwnerFailures { get; set; } = [];

    /// <summary>Owners one of whose devices failed this shard.</summary>
    public int FailedOwnerCount => OwnerFailures.Count;
    /// <summary>Since when no online device of an owner that has not failed the shard could take it; null while one could.</summary>
    [Id(10)] public DateTimeOffset? NoEligibleSince { get; set; }
    /// <summary>How the shard's last failed lease ended, with what the device said (a worker's release reason), for the job's failure reason.</summary>
    [Id(11)] public string? LastFailure { get; set; }
    /// <summary>
    /// Deterministic error codes its devices gave it back with, and the owners that reported each
    /// (<see cref="Rules.DeterministicFailure"/>): two owners with the same code fail the job at once.
    /// </summary>
    [Id(12)] public Dictionary<string, HashSet<string>> OwnersByFailureCode { get; set; } = [];
    /// <summary>The code of the last failed lease that was given back with one (<see cref="ShardErrorCodes"/>).</summary>
    [Id(13)] public string? LastFailureCode { get; set; }
    /// <summary>The worker's words on the last failed lease, sanitized, without the pool's framing.</summary>
    [Id(14)] public string? LastFailureText { get; set; }

    /// <summary>Leases still counting toward <see cref="RequiredResults"/>: running, or delivered and awaiting the verdict.</summary>
    public IEnumerable<LeaseState> Active => Leases.Where(l => l.Status is LeaseStatus.Open or LeaseStatus.Delivered);

    public int ActiveCount
    {
        get
        {
            var count = 0;
            foreach (var lease in Leases) if (lease.Status is LeaseStatus.Open or LeaseStatus.Delivered) count++;
            return count;
        }
    }
}

[GenerateSerializer, Alias("huginn.lease-status")]
public enum LeaseStatus
{
    Open = 0,
    Delivered = 1,
    /// <summary>Expired, lost, revoked or superseded: the device gets nothing for it.</summary>
    Lost = 2,
    /// <summary>A verdict was applied (paid, or rejected).</summary>
    Settled = 3,
}

[GenerateSerializer, Alias("huginn.lease-state")]
public sealed class LeaseState
{
    [Id(0)] public string LeaseId { get; set; } = "";
    [Id(1)] public string DeviceId { get; set; } = "";
    [Id(2)] public string OwnerAccountId { get; set; } = "";
    [Id(3)] public string HardwareClass { get; set; } = "";
    [Id(4)] public DateTimeOffset Deadline { get; set; }
    [Id(5)] public LeaseStatus Status { get; set; }
}

[GenerateSerializer, Immutable, Alias("huginn.pending-verdict")]
public sealed record PendingVerdict(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] VerdictNotice Notice);
