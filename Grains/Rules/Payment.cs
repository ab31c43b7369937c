using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Workloads;

namespace Huginn.Grains.Rules;

/// <summary>
/// The payment rule: every movement of a job's money, from the client's escrow to the refund. Pure; the job grain
/// writes the transfers it returns to its outbox and the ledger applies them once by id. Every transfer id is
/// derived from its cause (<c>escrow:{job}</c>, <c>pay:{lease}</c>, <c>fee:{job}</c>, <c>refund:{job}</c>), so a
/// replay after a crash applies nothing twice.
/// <list type="bullet">
/// <item>Escrow: at submission the client's <c>maxHu</c> moves to the job's escrow account, or by default the
/// estimate priced for the worst case of new devices (every shard audited plus the tie-break allowance); it must
/// cover at least one lease's reserve.</item>
/// <item>Reserve: every lease running or awaiting its verdict holds back its price, and the fee is held on all
/// that is paid or held, so the final charge can never exceed the escrow.</item>
/// <item>Verdict: verified work is paid at once; unaudited work is paid into pending, vesting after the holding
/// period (forfeitable until then, see <see cref="Slashing"/>); invalid and disputed work is not paid.</item>
/// <item>End (completed, failed or cancelled alike): the fee (<see cref="Pricing.FeeMicroHu"/> of paid work) goes
/// to <c>pool:fees</c>, and the rest of the escrow back to the client.</item>
/// </list>
/// </summary>
public static class Payment
{
    /// <summary>What the escrow must hold back for one more lease: its price and the fee on it.</summary>
    public static long ReservePerLease(long shardPriceMicroHu, PricingOptions pricing) =>
        shardPriceMicroHu + Pricing.FeeMicroHu(shardPriceMicroHu, pricing);

    /// <summary>The escrow a job takes: the client's cap, or the worst case of new devices.</summary>
    public static long EscrowBudget(JobPlan plan, long? maxMicroHu, PricingOptions pricing) =>
        maxMicroHu ?? Pricing.Estimate(plan, expectedAuditFraction: 1.0, pricing).TotalMicroHu;

    /// <summary>Moves the budget from the client to the job's escrow account.</summary>
    public static Transfer Escrow(string jobId, string clientAccountId, long budgetMicroHu) => new()
    {
        TransferId = $"escrow:{jobId}",
        From = clientAccountId,
        To = SystemAccounts.Escrow(jobId),
        AmountMicroHu = budgetMicroHu,
        Kind = TransferKind.Escrow,
        JobId = jobId,
    };

    /// <summary>
    /// Whether the escrow can hold back one more lease, given what is paid and the leases already held (running,
    /// awaiting their verdict, or being offered right now).
    /// </summary>
    public static bool CanReserveAnotherLease(long paidMicroHu, long leasesHeld, long shardPriceMicroHu, long escrowMicroHu, PricingOptions pricing)
    {
        var held = paidMicroHu + (leasesHeld + 1) * shardPriceMicroHu;
        return held + Pricing.FeeMicroHu(held, pricing) <= escrowMicroHu;
    }

    /// <summary>The payment a verdict earns the device's owner; null for invalid and disputed work.</summary>
    public static Transfer? ForVerdict(string jobId, string leaseId, string deviceId, string ownerAccountId, Verdict verdict,
        long shardPriceMicroHu, DateTimeOffset now, TimeSpan holdingPeriod)
    {
        if (verdict is not (Verdict.Verified or Verdict.Unaudited)) return null;
        return FromEscrow(jobId, $"pay:{leaseId}", ownerAccountId, shardPriceMicroHu, TransferKind.ShardPayment, deviceId,
            vestsAt: verdict == Verdict.Unaudited ? now + holdingPeriod : null);
    }

    /// <summary>The job's final settlement: the fee on paid work and the refund of everything else.</summary>
    public static JobSettlement Settle(string jobId, string clientAccountId, long escrowMicroHu, long paidMicroHu, PricingOptions pricing)
    {
        var fee = Pricing.FeeMicroHu(paidMicroHu, pricing);
        var refund = escrowMicroHu - paidMicroHu - fee;
        var transfers = new List<Transfer>(2);
        if (fee > 0) transfers.Add(FromEscrow(jobId, $"fee:{jobId}", SystemAccounts.Fees, fee, TransferKind.Fee));
        if (refund > 0) transfers.Add(FromEscrow(jobId, $"refund:{jobId}", clientAccountId, refund, TransferKind.Refund));
        return new JobSettlement(fee, refund, transfers);
    }

    /// <summary>What the client has spent so far: paid work, and the fee on it (charged at the end).</summary>
    public static long SpentSoFar(long paidMicroHu, PricingOptions pricing) => paidMicroHu + Pricing.FeeMicroHu(paidMicroHu, pricing);

    private static Transfer FromEscrow(string jobId, string id, string to, long amount, TransferKind kind, string? deviceId = null,
        DateTimeOffset? vestsAt = null) => new()
    {
        TransferId = id,
        From = SystemAccounts.Escrow(jobId),
        To = to,
        AmountMicroHu = amount,
        Kind = kind,
        DeviceId = deviceId,
        JobId = jobId,
        VestsAt = vestsAt,
    };
}

/// <summary>A job's end: the fee, the refund, and the transfers that move them.</summary>
public sealed record JobSettlement(long FeeMicroHu, long RefundedMicroHu, IReadOnlyList<Transfer> Transfers);
