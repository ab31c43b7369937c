using System.Diagnostics.Metrics;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Workloads;

namespace Huginn.Grains.Telemetry;

/// <summary>
/// The pool's own meters (<c>Huginn.Pool</c>), exported in Prometheus format by the hosts that register the meter
/// (Silo: <c>Huginn:Metrics:Port</c>; Api: <c>/metrics</c>). Every definition lives here so that the grains need one line
/// per event and no constructor change. Counters are per process: sum them over silos (<c>sum(rate(...))</c>).
/// </summary>
/// <remarks>
/// Static rather than injected: a <see cref="Meter"/> is process-wide anyway, silos in one process (the test cluster)
/// share it harmlessly, and grain constructors stay as other work needs them. Each call site is where the event
/// happens exactly once (a transfer is received once by id, a verdict applied once per lease), so the counts are not
/// inflated by retries or redeliveries.
/// </remarks>
public static class PoolMeters
{
    /// <summary>One meter name with the state gauges (Grains.Interfaces' PoolStateGauges): operators subscribe once.</summary>
    public const string MeterName = Interfaces.Telemetry.PoolStateGauges.MeterName;

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Leased = Meter.CreateCounter<long>(
        "huginn.pool.shards.leased", "{lease}", "Shard leases a device accepted, by hardware class.");

    private static readonly Counter<long> Settled = Meter.CreateCounter<long>(
        "huginn.pool.shards.settled", "{lease}", "Delivered leases settled, by verdict (verified, invalid, unaudited, disputed).");

    private static readonly Counter<long> Lost = Meter.CreateCounter<long>(
        "huginn.pool.shards.failed", "{lease}", "Leases that ended without a result, by reason (expired, device_offline, released, ...).");

    private static readonly Counter<long> Audits = Meter.CreateCounter<long>(
        "huginn.pool.audits", "{audit}", "Audited shards whose verification reached a decision.");

    private static readonly Counter<long> InvalidVerdicts = Meter.CreateCounter<long>(
        "huginn.pool.verdicts.invalid", "{verdict}", "Invalid verdicts applied to devices (outvoted or malformed results).");

    private static readonly Counter<long> Bans = Meter.CreateCounter<long>(
        "huginn.pool.devices.banned", "{device}", "Devices banned after too many invalid verdicts.");

    private static readonly Counter<long> Minted = Meter.CreateCounter<long>(
        "huginn.pool.hu.minted", "{microhu}", "Micro-HU credited from the mint.");

    private static readonly Counter<long> Escrowed = Meter.CreateCounter<long>(
        "huginn.pool.hu.escrowed", "{microhu}", "Micro-HU moved into job escrows.");

    private static readonly Counter<long> Paid = Meter.CreateCounter<long>(
        "huginn.pool.hu.paid", "{microhu}", "Micro-HU paid to contributors for shards.");

    private static readonly Counter<long> Forfeited = Meter.CreateCounter<long>(
        "huginn.pool.hu.forfeited", "{microhu}", "Pending micro-HU forfeited by devices caught cheating.");

    private static readonly Counter<long> Refunded = Meter.CreateCounter<long>(
        "huginn.pool.hu.refunded", "{microhu}", "Micro-HU refunded from escrows to clients.");

    private static readonly Counter<long> Fees = Meter.CreateCounter<long>(
        "huginn.pool.hu.fees", "{microhu}", "Micro-HU charged as pool fees.");

    private static readonly Counter<long> JobsSubmitted = Meter.CreateCounter<long>(
        "huginn.pool.jobs.submitted", "{job}", "Jobs accepted (escrow taken), by kind (train, infer, prep).");

    private static readonly Counter<long> JobsFinished = Meter.CreateCounter<long>(
        "huginn.pool.jobs.finished", "{job}", "Jobs that ended, by final state (completed, failed, cancelled) and kind.");

    private static readonly Counter<long> ShardsAccepted = Meter.CreateCounter<long>(
        "huginn.pool.shards.accepted", "{shard}", "Shards whose result the job accepted, by whether a second device verified it (verified: true, false).");

    /// <summary>A job was accepted and its escrow taken.</summary>
    public static void JobSubmitted(WorkloadKind kind) =>
        JobsSubmitted.Add(1, new KeyValuePair<string, object?>("kind", Snake(kind.ToString())));

    /// <summary>A job reached its final state (once: the job is no longer active afterwards).</summary>
    public static void JobFinished(JobStatus state, WorkloadKind kind) =>
        JobsFinished.Add(1, new KeyValuePair<string, object?>("state", Snake(state.ToString())),
            new KeyValuePair<string, object?>("kind", Snake(kind.ToString())));

    /// <summary>A shard's result was accepted into its round (once per shard and round).</summary>
    public static void ShardAccepted(bool verified) =>
        ShardsAccepted.Add(1, new KeyValuePair<string, object?>("verified", verified ? "true" : "false"));

    /// <summary>A device accepted a shard lease.</summary>
    public static void ShardLeased(string hardwareClass) =>
        Leased.Add(1, new KeyValuePair<string, object?>("hardware_class", hardwareClass));

    /// <summary>A delivered lease got its verdict.</summary>
    public static void LeaseSettled(Verdict verdict) =>
        Settled.Add(1, new KeyValuePair<string, object?>("verdict", Snake(verdict.ToString())));

    /// <summary>A lease ended without a result that counts.</summary>
    public static void LeaseLost(LeaseEndReason reason) =>
        Lost.Add(1, new KeyValuePair<string, object?>("reason", Snake(reason.ToString())));

    /// <summary>An audited shard's verification decided who agreed.</summary>
    public static void AuditDecided() => Audits.Add(1);

    /// <summary>A device's record took a verdict; only invalid ones are counted (the others are in <see cref="LeaseSettled"/>).</summary>
    public static void VerdictApplied(Verdict verdict)
    {
        if (verdict == Verdict.Invalid) InvalidVerdicts.Add(1);
    }

    /// <summary>A device was banned.</summary>
    public static void DeviceBanned() => Bans.Add(1);

    /// <summary>A transfer was applied by its receiver (once per transfer id): HU by what moved them.</summary>
    public static void TransferReceived(Transfer transfer)
    {
        var counter = transfer.Kind switch
        {
            TransferKind.Mint => Minted,
            TransferKind.Escrow => Escrowed,
            TransferKind.ShardPayment => Paid,
            TransferKind.Forfeit => Forfeited,
            TransferKind.Refund => Refunded,
            TransferKind.Fee => Fees,
            _ => null,
        };
        counter?.Add(transfer.AmountMicroHu);
    }

    // Prometheus label values read best in snake case: DeviceOffline → device_offline.
    private static string Snake(string name) =>
        string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
