using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Grains.Rules;
using Huginn.Workloads;

namespace Huginn.Tests.Rules;

public sealed class PaymentTests
{
    private static readonly PricingOptions Pricing = new() { FlopsPerHu = 1e9, MinShardMicroHu = 10, PoolFeeRate = 0.10 };
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Verified_work_is_paid_at_once_and_unaudited_work_into_pending()
    {
        var verified = Payment.ForVerdict("job", "lease-1", "dev", "alice", Verdict.Verified, 100, Now, TimeSpan.FromHours(24))!;
        var unaudited = Payment.ForVerdict("job", "lease-2", "dev", "alice", Verdict.Unaudited, 100, Now, TimeSpan.FromHours(24))!;

        Assert.Equal(("pay:lease-1", "escrow:job", "alice", 100L, (DateTimeOffset?)null),
            (verified.TransferId, verified.From, verified.To, verified.AmountMicroHu, verified.VestsAt));
        Assert.Equal(Now.AddHours(24), unaudited.VestsAt);
        Assert.Equal("dev", unaudited.DeviceId);
        Assert.Equal(TransferKind.ShardPayment, unaudited.Kind);
    }

    [Fact]
    public void Invalid_and_disputed_work_is_not_paid()
    {
        Assert.Null(Payment.ForVerdict("job", "l", "dev", "alice", Verdict.Invalid, 100, Now, TimeSpan.Zero));
        Assert.Null(Payment.ForVerdict("job", "l", "dev", "alice", Verdict.Disputed, 100, Now, TimeSpan.Zero));
    }

    [Fact]
    public void The_escrow_holds_back_every_running_lease_and_the_fee_on_it()
    {
        // Price 100, fee 10 %: three leases and their fee need 330.
        Assert.True(Payment.CanReserveAnotherLease(paidMicroHu: 0, leasesHeld: 2, 100, escrowMicroHu: 330, Pricing));
        Assert.False(Payment.CanReserveAnotherLease(paidMicroHu: 0, leasesHeld: 3, 100, escrowMicroHu: 330, Pricing));
        Assert.False(Payment.CanReserveAnotherLease(paidMicroHu: 100, leasesHeld: 2, 100, escrowMicroHu: 330, Pricing));
        Assert.Equal(110, Payment.ReservePerLease(100, Pricing));
    }

    [Fact]
    public void Settlement_charges_the_fee_on_paid_work_and_refunds_exactly_the_rest()
    {
        var settlement = Payment.Settle("job", "client", escrowMicroHu: 1_000, paidMicroHu: 300, Pricing);

        Assert.Equal(30, settlement.FeeMicroHu);
        Assert.Equal(670, settlement.RefundedMicroHu);
        Assert.Equal(1_000, 300 + settlement.FeeMicroHu + settlement.RefundedMicroHu);
        Assert.Equal(["fee:job", "refund:job"], settlement.Transfers.Select(t => t.TransferId));
        Assert.Equal([SystemAccounts.Fees, "client"], settlement.Transfers.Select(t => t.To));
        Assert.All(settlement.Transfers, t => Assert.Equal(SystemAccounts.Escrow("job"), t.From));
    }

    [Fact]
    public void A_job_that_paid_nothing_refunds_everything_and_charges_no_fee()
    {
        var settlement = Payment.Settle("job", "client", escrowMicroHu: 500, paidMicroHu: 0, Pricing);

        Assert.Equal(0, settlement.FeeMicroHu);
        Assert.Equal(["refund:job"], settlement.Transfers.Select(t => t.TransferId));
    }

    [Fact]
    public void Without_a_cap_the_escrow_is_the_worst_case_of_every_shard_audited()
    {
        var plan = JobPlanner.Plan(Huginn.Tests.Pool.Specs.TeacherTraining(rounds: 2, shardsPerRound: 4));

        Assert.Equal(Grains.Rules.Pricing.Estimate(plan, 1.0, Pricing).TotalMicroHu, Payment.EscrowBudget(plan, null, Pricing));
        Assert.Equal(1234, Payment.EscrowBudget(plan, 1234, Pricing));
        Assert.Equal("escrow:job", Payment.Escrow("job", "client", 1234).TransferId);
    }
}
