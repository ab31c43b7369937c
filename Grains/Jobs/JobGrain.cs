using Microsoft.Extensions.DependencyInjection;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Grains.Interfaces.Pool;
using Huginn.Workloads;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Huginn.Grains.Jobs;

/// <summary>
/// One client job. This file holds its lifecycle (submit, cancel, finish, the sweep timer, the outboxes);
/// JobGrain.Dispatch.cs routes shards and keeps leases, JobGrain.Settlement.cs turns results and verdicts
/// into accepted work, payments and rounds. The three parts share one state and one turn at a time.
/// Every decision is persisted before it is acted on, and every action (transfer, verdict) is idempotent,
/// so a crash at any point replays, never repeats.
/// </summary>
public sealed partial class JobGrain(
    [PersistentState("job", StorageNames.State)] IPersistentState<JobState> state,
    IOptions<PoolOptions> options,
    [FromKeyedServices(PoolClock.Key)] TimeProvider time,
    IBlobStore blobs,
    ILogger<JobGrain> logger) : Grain, IJobGrain, IRemindable
{
    private const string KeepAliveReminder = "job-keepalive";
    private readonly PoolOptions _options = options.Value;
    private IGrainTimer? _sweepTimer;

    private JobPlan? _plan;

    private JobState S => state.State;

    /// <summary>The spec's plan, derived once per activation: planning validates the spec, which is not per-shard work.</summary>
    private JobPlan Plan => _plan ??= JobPlanner.Plan(S.Spec!);
    private string JobId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!S.Exists) return;
        if (IsActive) StartSweeping();
        if (S.TransferOutbox.Count > 0 || S.VerdictOutbox.Count > 0) await FlushOutboxesAsync();
    }

    private bool IsActive => S.Status is JobStatus.Funding or JobStatus.Queued or JobStatus.Running;

    public async Task<JobSubmissionResult> SubmitAsync(JobSubmission submission)
    {
        if (S.Exists) return new JobSubmissionResult(View(), [], JobRefusal.AlreadyExists);

        // Validation, and whether any device online could run it at all: refused now, not discovered later.
        var priced = await GrainFactory.GetGrain<IEstimatorGrain>(0).EstimateAsync(submission.Spec);
        if (!priced.CanRun) return new JobSubmissionResult(null, priced.Errors, JobRefusal.InvalidSpec);
        var (initialWeights, inputErrors) = await JobInputs.LoadAsync(GrainFactory, blobs, submission.Spec, submission.ClientAccountId);
        if (inputErrors.Count > 0) return new JobSubmissionResult(null, inputErrors, JobRefusal.InvalidSpec);

        var spec = submission.Spec;
        var plan = JobPlanner.Plan(spec);
        var estimate = priced.Cost!;
        var price = Pricing.ShardPriceMicroHu(plan.FlopsPerShard, _options.Pricing);
        var reserve = price + Pricing.FeeMicroHu(price, _options.Pricing);
        // Without maxHu the escrow is the bound, not the expectation: every shard audited plus the tie-break
        // allowance, so a run with more audits than expected does not stop for money. The rest is refunded.
        var budget = submission.MaxMicroHu ?? Pricing.Estimate(plan, expectedAuditFraction: 1.0, _options.Pricing).TotalMicroHu;
        if (budget < reserve)
        {
            return new JobSubmissionResult(null,
                [new SpecError("maxHu", $"must cover at least one shard: {MicroHu.ToHu(reserve)} HU")], JobRefusal.BudgetBelowEstimateMinimum);
        }

        S.Exists = true;
        S.Status = JobStatus.Funding;
        S.OwnerAccountId = submission.ClientAccountId;
        S.Spec = spec;
        S.Estimate = estimate;
        S.EscrowMicroHu = budget;
        S.ShardPriceMicroHu = price;
        S.Rounds = plan.Rounds;
        S.ShardsPerRound = plan.ShardsPerRound;
        S.Requirement = plan.Requirement;
        S.CreatedAt = time.GetUtcNow();
        await state.WriteStateAsync();

        await GrainFactory.GetGrain<IAccountGrain>(SystemAccounts.Escrow(JobId)).OpenAsync(AccountKind.Escrow);
        var funded = await GrainFactory.GetGrain<IAccountGrain>(submission.ClientAccountId).TransferAsync(new Transfer
        {
            TransferId = $"escrow:{JobId}",
            From = submission.ClientAccountId,
            To = SystemAccounts.Escrow(JobId),
            AmountMicroHu = budget,
            Kind = TransferKind.Escrow,
            JobId = JobId,
        });
        if (funded is not (TransferOutcome.Applied or TransferOutcome.Duplicate))
        {
            await state.ClearStateAsync();
            return new JobSubmissionResult(null,
                [new SpecError("maxHu", $"the balance does not cover the escrow of {MicroHu.ToHu(budget)} HU")], JobRefusal.InsufficientBalance);
        }

        S.Status = JobStatus.Queued;
        S.Weights = initialWeights;
        await JobInputs.ReferenceAsync(blobs, spec, JobId);
        await StartRoundAsync(0);
        await state.WriteStateAsync();
        await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        StartSweeping();
        logger.LogInformation("Job {JobId} submitted: {Kind}, {Rounds} round(s) × {Shards} shard(s), escrow {Escrow} micro-HU",
            JobId, spec.Kind, S.Rounds, S.ShardsPerRound, budget);
        await DispatchAsync();
        return new JobSubmissionResult(View(), [], JobRefusal.None);
    }

    /// <summary>Tells the pool's queue what is left: at submission, at each round, and at the end.</summary>
    private Task ReportLoadAsync()
    {
        var remaining = IsActive ? (S.Rounds - S.Round) * S.ShardsPerRound - S.Shards.Values.Count(s => s.Done) : 0;
        var flopsPerShard = S.Spec is null ? 0 : Plan.FlopsPerShard;
        return GrainFactory.GetGrain<IPoolLoadGrain>(IPoolLoadGrain.Key)
            .ReportAsync(new JobLoad(JobId, Math.Max(0, remaining), (double)remaining * flopsPerShard, IsActive && remaining > 0));
    }

    public Task<JobView?> GetAsync() => Task.FromResult(S.Exists ? View() : null);

    public async Task<JobView?> CancelAsync()
    {
        if (!S.Exists) return null;
        if (IsActive) await FinishAsync(JobStatus.Cancelled, "cancelled by the client");
        return View();
    }

    public Task<JobResult?> GetResultAsync()
    {
        if (!S.Exists || S.Status != JobStatus.Completed) return Task.FromResult<JobResult?>(null);
        var ordered = S.Outputs.OrderBy(o => o.Key).Select(o => o.Value).ToList();
        var result = S.Spec!.Kind switch
        {
            WorkloadKind.Train => new JobResult(WorkloadKind.Train, S.Weights, [], S.RoundLosses.ToArray()),
            WorkloadKind.Infer => new JobResult(WorkloadKind.Infer, ordered.SelectMany(o => o.Values).ToArray(), [], []),
            _ => new JobResult(WorkloadKind.Prep, [], ordered.SelectMany(o => o.Bytes).ToArray(), []),
        };
        return Task.FromResult<JobResult?>(result);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // The reminder only exists to bring a running job back after its silo restarted.
        if (!S.Exists || !IsActive)
        {
            await UnregisterKeepAliveAsync();
            return;
        }
        StartSweeping();
    }

    /// <summary>Ends the job: leases revoked, the fee charged on paid work, every other micro-HU refunded.</summary>
    private async Task FinishAsync(JobStatus status, string? reason)
    {
        foreach (var shard in S.Shards.Values)
        {
            foreach (var lease in shard.Leases.Where(l => l.Status is LeaseStatus.Open or LeaseStatus.Delivered))
            {
                if (lease.Status == LeaseStatus.Open)
                    await GrainFactory.GetGrain<IDeviceGrain>(lease.DeviceId).EndLeaseAsync(lease.LeaseId, LeaseEndReason.JobEnded);
                lease.Status = LeaseStatus.Lost;
            }
        }
        S.Status = status;
        S.FailureReason = status == JobStatus.Completed ? null : reason;
        S.FinishedAt = time.GetUtcNow();
        S.FeeMicroHu = Pricing.FeeMicroHu(S.PaidMicroHu, _options.Pricing);
        S.RefundedMicroHu = S.EscrowMicroHu - S.PaidMicroHu - S.FeeMicroHu;
        if (S.FeeMicroHu > 0) S.TransferOutbox.Add(EscrowTransfer($"fee:{JobId}", SystemAccounts.Fees, S.FeeMicroHu, TransferKind.Fee));
        if (S.RefundedMicroHu > 0) S.TransferOutbox.Add(EscrowTransfer($"refund:{JobId}", S.OwnerAccountId, S.RefundedMicroHu, TransferKind.Refund));
        await state.WriteStateAsync();
        StopSweeping();
        await FlushOutboxesAsync();
        await UnregisterKeepAliveAsync();
        await ReportLoadAsync();
        logger.LogInformation("Job {JobId} {Status}{Reason}: paid {Paid}, fee {Fee}, refunded {Refund} micro-HU",
            JobId, status, reason is null ? "" : $" ({reason})", S.PaidMicroHu, S.FeeMicroHu, S.RefundedMicroHu);
    }

    private Transfer EscrowTransfer(string id, string to, long amount, TransferKind kind, string? deviceId = null, DateTimeOffset? vestsAt = null) => new()
    {
        TransferId = id,
        From = SystemAccounts.Escrow(JobId),
        To = to,
        AmountMicroHu = amount,
        Kind = kind,
        DeviceId = deviceId,
        JobId = JobId,
        VestsAt = vestsAt,
    };

    /// <summary>
    /// Applies decided transfers and verdicts; each is idempotent, so a replay after a crash is harmless.
    /// Transfers go to the escrow account in one call; verdicts go to their devices side by side, each
    /// device's in order. What could not be applied stays in the outbox for the next flush (the sweep retries).
    /// </summary>
    private async Task FlushOutboxesAsync()
    {
        if (S.TransferOutbox.Count == 0 && S.VerdictOutbox.Count == 0) return;
        var transfers = S.TransferOutbox.ToList();
        var verdicts = S.VerdictOutbox.ToList();
        var paid = PayAsync(transfers);
        var recorded = Task.WhenAll(verdicts.GroupBy(v => v.DeviceId).Select(RecordVerdictsAsync));
        await Task.WhenAll(paid, recorded);

        if (await paid)
        {
            var sent = transfers.ToHashSet(ReferenceEqualityComparer.Instance);
            S.TransferOutbox.RemoveAll(sent.Contains);
        }
        var done = (await recorded).SelectMany(r => r).ToHashSet(ReferenceEqualityComparer.Instance);
        S.VerdictOutbox.RemoveAll(done.Contains);
        await state.WriteStateAsync();
    }

    /// <summary>Pays from the escrow; false (and everything stays in the outbox) when the account could not be reached.</summary>
    private async Task<bool> PayAsync(List<Transfer> transfers)
    {
        if (transfers.Count == 0) return true;
        TransferOutcome[] outcomes;
        try
        {
            outcomes = await GrainFactory.GetGrain<IAccountGrain>(SystemAccounts.Escrow(JobId)).TransferManyAsync(transfers);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Job {JobId}: {Count} transfer(s) not applied yet; will retry", JobId, transfers.Count);
            return false;
        }
        for (var i = 0; i < transfers.Count; i++)
        {
            if (outcomes[i] is not (TransferOutcome.Applied or TransferOutcome.Duplicate))
                logger.LogError("Job {JobId}: transfer {TransferId} was refused ({Outcome})", JobId, transfers[i].TransferId, outcomes[i]);
        }
        return true;
    }

    /// <summary>One device's verdicts in order; returns those applied, stopping at the first that could not be.</summary>
    private async Task<List<PendingVerdict>> RecordVerdictsAsync(IEnumerable<PendingVerdict> deviceVerdicts)
    {
        var recorded = new List<PendingVerdict>();
        foreach (var pending in deviceVerdicts)
        {
            try
            {
                await GrainFactory.GetGrain<IDeviceGrain>(pending.DeviceId).RecordVerdictAsync(pending.Notice);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Job {JobId}: verdict for lease {LeaseId} not applied to {DeviceId} yet; will retry",
                    JobId, pending.Notice.LeaseId, pending.DeviceId);
                break;
            }
            recorded.Add(pending);
        }
        return recorded;
    }

    private void StartSweeping()
    {
        _sweepTimer ??= this.RegisterGrainTimer(SweepAsync, new GrainTimerCreationOptions
        {
            DueTime = _options.SweepInterval,
            Period = _options.SweepInterval,
            KeepAlive = true,
        });
    }

    private void StopSweeping()
    {
        _sweepTimer?.Dispose();
        _sweepTimer = null;
    }

    private async Task UnregisterKeepAliveAsync()
    {
        var reminder = await this.GetReminder(KeepAliveReminder);
        if (reminder is not null) await this.UnregisterReminder(reminder);
    }

    private JobView View()
    {
        var totalShards = S.Rounds * S.ShardsPerRound;
        return new JobView
        {
            JobId = JobId,
            OwnerAccountId = S.OwnerAccountId,
            Status = S.Status,
            Progress = new JobProgress(totalShards, S.ShardsDone, S.ShardsVerified, Math.Min(S.Round + 1, S.Rounds), S.Rounds),
            Estimate = S.Estimate!,
            EscrowMicroHu = S.EscrowMicroHu,
            SpentMicroHu = S.PaidMicroHu + (IsActive ? Pricing.FeeMicroHu(S.PaidMicroHu, _options.Pricing) : S.FeeMicroHu),
            RefundedMicroHu = S.RefundedMicroHu,
            RoundLosses = S.RoundLosses.ToArray(),
            FailureReason = S.FailureReason,
            CreatedAt = S.CreatedAt,
            FinishedAt = S.FinishedAt,
            DevicesCaught = S.DevicesCaught.Order(StringComparer.Ordinal).ToArray(),
            Spec = S.Spec!,
        };
    }
}
