using Huginn.Protocol;

namespace Huginn.Cli.Http;

// The API's answers as the CLI reads them (docs: API.md). Own records, not the Api's: the CLI is a client of the
// public contract and must not load the host; fields added to the API are ignored here until they are used.

public sealed record AccountCreated(string AccountId, string ApiKey);

public sealed record Account(string AccountId, string Role, decimal BalanceHu, decimal EscrowHu, decimal PendingHu, decimal EarnedHu);

public sealed record EstimateBreakdown(decimal WorkHu, decimal AuditHu, decimal FeeHu, decimal ShardPriceHu, decimal EurPerHu);

public sealed record Estimate(decimal Hu, decimal Eur, int Shards, double AuditFraction, double EtaSeconds, EstimateBreakdown? Breakdown);

public sealed record Submitted(string JobId, Estimate Estimate);

public sealed record JobProgress(int ShardsTotal, int ShardsDone, int ShardsVerified, int Round, int Rounds);

/// <summary>
/// Each round's loss over its verified shards; null for a round with none. With spec.validation, each round's
/// validation loss and accuracy (null: not evaluated yet, the evaluation failed, or no accuracy for mse).
/// </summary>
public sealed record JobMetrics(double?[]? Loss, double?[]? ValidationLoss = null, double?[]? ValidationAccuracy = null);

public sealed record Job(
    string JobId, string Kind, string State, JobProgress Progress, decimal EscrowHu, decimal SpentHu, decimal RefundedHu,
    JobMetrics? Metrics, string[]? DevicesCaught, string? FailureReason, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt,
    decimal EstimatedHu, decimal? ActualHu)
{
    public const string Completed = "completed";

    public bool IsFinished => State is Completed or "failed" or "cancelled";

    /// <summary>The rounds' losses that were measured on verified shards, in round order (rounds without one are left out).</summary>
    public double[] Losses => Metrics?.Loss?.OfType<double>().ToArray() ?? [];

    public string[] Caught => DevicesCaught ?? [];

    /// <summary>The rounds evaluated on the validation rows: (round from 1, loss, accuracy), in round order.</summary>
    public (int Round, double Loss, double? Accuracy)[] Validation =>
        Metrics?.ValidationLoss is not { } losses ? []
        : [.. losses.Select((loss, i) => (Round: i + 1, Loss: loss, Accuracy: Metrics.ValidationAccuracy?.ElementAtOrDefault(i)))
            .Where(v => v.Loss is not null).Select(v => (v.Round, v.Loss!.Value, v.Accuracy))];

    /// <summary>Whether the job has a validation split (its metrics carry validation arrays).</summary>
    public bool Validates => Metrics?.ValidationLoss is not null;
}

public sealed record DeviceRegistered(string DeviceId, string DeviceToken);

public sealed record Device(
    string DeviceId, string Name, DeviceCapabilitiesDto Capabilities, string HardwareClass, string Status,
    double Reputation, double AuditRate, int Verified, int Invalid, int Unaudited, int Expired, bool Banned,
    decimal EarnedHu, decimal PendingHu, int OpenLeases, DateTimeOffset? LastHeartbeat);

public sealed record PoolOverview(
    int DevicesOnline, Dictionary<string, int>? ByKind, double GflopsOnline, long ShardsQueued, int JobsRunning,
    decimal HuPriceEur, double MeanAuditRate);

/// <summary>The "progress" event of GET /v1/jobs/{id}/events.</summary>
public sealed record ProgressEvent(string State, JobProgress Progress, decimal SpentHu);

/// <summary>The "round" event: a finished round's mean training loss over its verified shards (null: none verified).</summary>
public sealed record RoundEvent(int Round, double? Loss);

/// <summary>The "validation" event: a round's weights measured on the validation rows (accuracy null for mse).</summary>
public sealed record ValidationEvent(int Round, double Loss, double? Accuracy);

/// <summary>The "caught" event: a device whose result verification outvoted.</summary>
public sealed record CaughtEvent(string DeviceId);

/// <summary>One job of GET /v1/jobs.</summary>
public sealed record JobSummary(
    string JobId, string Kind, string State, JobProgress Progress, decimal EstimatedHu, decimal? ActualHu,
    DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

/// <summary>A page of GET /v1/jobs; Cursor asks for the next one (null: the last page).</summary>
public sealed record JobList(JobSummary[] Jobs, string? Cursor);
