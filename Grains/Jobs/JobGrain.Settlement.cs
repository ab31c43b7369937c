using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Grains.Interfaces.Verification;
using Huginn.Workloads;
using Microsoft.Extensions.Logging;

namespace Huginn.Grains.Jobs;

/// <summary>From results to verdicts, payments and rounds.</summary>
public sealed partial class JobGrain
{
    /// <summary>Results that arrived since the last batch, in arrival order. Memory only: see <see cref="DeliverResultAsync"/>.</summary>
    private readonly List<ArrivedResult> _arrived = [];
    private IGrainTimer? _batchTimer;

    private sealed record ArrivedResult(string LeaseId, string DeviceId, ShardOutput Output);

    /// <summary>
    /// Queues the result for the next batch and returns. Results that arrive while a batch is being settled
    /// wait in the activation's queue, so the next batch takes all of them: one state write, one payment call
    /// and one dispatch pass for many shards, instead of one each (docs/BENCHMARKS.md, row 1). A result held
    /// here and lost with the activation is the same as a lost one-way call: its lease expires and the shard
    /// runs again, and nothing was paid for it.
    /// </summary>
    public Task DeliverResultAsync(string leaseId, string deviceId, ShardOutput output)
    {
        if (!IsActive) return Task.CompletedTask;
        _arrived.Add(new ArrivedResult(leaseId, deviceId, output));
        if (_arrived.Count == 1)
        {
            // A timer tick is a message like any other: it runs after the results already queued behind this one.
            _batchTimer ??= this.RegisterGrainTimer(SettleOrStartOverAsync, new GrainTimerCreationOptions
            {
                DueTime = Timeout.InfiniteTimeSpan,
                Period = Timeout.InfiniteTimeSpan,
            });
            _batchTimer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// A batch that fails half-way (a verification grain or the database away) has marked leases delivered in memory
    /// only: the activation starts over from its persisted state, where they are still open and expire like lost results.
    /// </summary>
    private async Task SettleOrStartOverAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SettleArrivedAsync(cancellationToken);
        }
        catch
        {
            DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Settles every result that arrived since the last batch, then persists, pays and dispatches once.</summary>
    private async Task SettleArrivedAsync(CancellationToken cancellationToken)
    {
        var batch = _arrived.ToList();
        _arrived.Clear();
        // A result for a lease this job no longer holds open (late, duplicate, after cancel) is never paid.
        if (batch.Count == 0 || !IsActive) return;

        var audited = new List<(ShardState Shard, VerificationEntry Entry)>();
        foreach (var result in batch)
        {
            if (!TryFindLease(result.LeaseId, result.DeviceId, out var shard, out var lease) || lease.Status != LeaseStatus.Open) continue;
            lease.Status = LeaseStatus.Delivered;
            if (shard.Audited)
            {
                audited.Add((shard, new VerificationEntry(result.DeviceId, result.LeaseId, S.Spec!.Kind, _options.Tolerances.For(S.Spec.Kind), result.Output)));
                continue;
            }
            Settle(shard, lease, Verdict.Unaudited);
            Accept(shard, result.Output);
        }

        // Each audited shard has its own verification grain: ask them side by side, each shard's results in order.
        var decided = await Task.WhenAll(audited.GroupBy(a => a.Shard).Select(async group =>
        {
            var verification = GrainFactory.GetGrain<IVerificationGrain>(RefOf(group.Key).ToString());
            var decisions = new List<VerificationDecision>();
            foreach (var (_, entry) in group) decisions.Add(await verification.AddResultAsync(entry));
            return (Shard: group.Key, Decisions: decisions);
        }));
        foreach (var (shard, decisions) in decided)
        {
            foreach (var decision in decisions) await ApplyDecisionAsync(shard, decision);
        }

        await state.WriteStateAsync();
        await FlushOutboxesAsync();
        if (S.Shards.Values.All(s => s.Done)) await CompleteRoundAsync();
        else await DispatchAsync(expectedFreeSlots: batch.Count);
    }

    private async Task ApplyDecisionAsync(ShardState shard, VerificationDecision decision)
    {
        var verification = GrainFactory.GetGrain<IVerificationGrain>(RefOf(shard).ToString());
        switch (decision.Status)
        {
            case VerificationStatus.AwaitingResults:
                return;

            case VerificationStatus.NeedsTieBreak:
                logger.LogInformation("Job {JobId}: shard {Index} results disagree (relative L2 {Distance:G3}); a third device breaks the tie",
                    JobId, shard.Index, decision.Distances.FirstOrDefault());
                shard.RequiredResults = 3;
                return;

            case VerificationStatus.Decided:
                foreach (var lease in shard.Leases.Where(l => l.Status == LeaseStatus.Delivered))
                {
                    var won = decision.Winners.Contains(lease.DeviceId);
                    Settle(shard, lease, won ? Verdict.Verified : Verdict.Invalid);
                    if (!won)
                    {
                        S.DevicesCaught.Add(lease.DeviceId);
                        logger.LogWarning("Job {JobId}: device {DeviceId} was outvoted on shard {Index}: not paid, slashed",
                            JobId, lease.DeviceId, shard.Index);
                    }
                }
                await EndSurplusLeasesAsync(shard);
                S.ShardsVerified++;
                Accept(shard, decision.Accepted!);
                await verification.ClearAsync();
                return;

            case VerificationStatus.Disputed:
                logger.LogWarning("Job {JobId}: shard {Index} is disputed (no two results agree); nobody is paid, it runs again",
                    JobId, shard.Index);
                foreach (var lease in shard.Leases.Where(l => l.Status == LeaseStatus.Delivered))
                {
                    Settle(shard, lease, Verdict.Disputed);
                    shard.ExcludedDevices.Add(lease.DeviceId);
                }
                await EndSurplusLeasesAsync(shard);
                await verification.ClearAsync();
                shard.Attempt++;
                shard.Leases.Clear();
                shard.AuditDecided = true;
                shard.Audited = true;
                shard.RequiredResults = 2;
                return;
        }
    }

    /// <summary>Leases still running when the shard is already decided are not needed any more.</summary>
    private async Task EndSurplusLeasesAsync(ShardState shard)
    {
        foreach (var lease in shard.Leases.Where(l => l.Status == LeaseStatus.Open))
        {
            lease.Status = LeaseStatus.Lost;
            await GrainFactory.GetGrain<IDeviceGrain>(lease.DeviceId).EndLeaseAsync(lease.LeaseId, LeaseEndReason.NotNeeded);
        }
    }

    /// <summary>
    /// Records the verdict for one delivered lease and, for accepted work, its payment: immediately available
    /// when an audit confirmed it, pending for the holding period when nobody checked it.
    /// </summary>
    private void Settle(ShardState shard, LeaseState lease, Verdict verdict)
    {
        lease.Status = LeaseStatus.Settled;
        S.VerdictOutbox.Add(new PendingVerdict(lease.DeviceId, new VerdictNotice(RefOf(shard), lease.LeaseId, verdict)));
        if (verdict is not (Verdict.Verified or Verdict.Unaudited)) return;

        var vestsAt = verdict == Verdict.Unaudited ? time.GetUtcNow() + _options.HoldingPeriod : (DateTimeOffset?)null;
        S.TransferOutbox.Add(EscrowTransfer($"pay:{lease.LeaseId}", lease.OwnerAccountId, S.ShardPriceMicroHu,
            TransferKind.ShardPayment, lease.DeviceId, vestsAt));
        S.PaidMicroHu += S.ShardPriceMicroHu;
    }

    /// <summary>Folds an accepted output into the round: a weighted delta for training, the output itself otherwise.</summary>
    private void Accept(ShardState shard, ShardOutput output)
    {
        shard.Done = true;
        S.ShardsDone++;
        if (S.Spec!.Kind == WorkloadKind.Train)
        {
            var samples = Plan.Shard(S.Round, shard.Index).SampleCount;
            var average = new FederatedAverage(S.RoundSums, S.RoundSamples);
            average.Add(output.Values, samples);
            S.RoundSums = average.Sums;
            S.RoundSamples = average.TotalSamples;
            S.RoundLossSum += output.Loss * samples;
        }
        else
        {
            S.Outputs[shard.Index] = output;
        }
    }

    private async Task CompleteRoundAsync()
    {
        if (S.Spec!.Kind == WorkloadKind.Train)
        {
            var average = new FederatedAverage(S.RoundSums, S.RoundSamples);
            var weights = S.Weights;
            S.Weights = weights.Length > 65_536 ? await Task.Run(() => average.ApplyTo(weights)) : average.ApplyTo(weights);
            S.RoundLosses.Add(S.RoundLossSum / Math.Max(1, S.RoundSamples));
            logger.LogInformation("Job {JobId}: round {Round}/{Rounds} done, loss {Loss:F5}", JobId, S.Round + 1, S.Rounds, S.RoundLosses[^1]);
        }
        if (S.Round + 1 < S.Rounds)
        {
            await StartRoundAsync(S.Round + 1);
            await state.WriteStateAsync();
            await DispatchAsync(expectedFreeSlots: S.ShardsPerRound);
            return;
        }
        S.Round = S.Rounds;
        await FinishAsync(JobStatus.Completed, null);
    }
}
