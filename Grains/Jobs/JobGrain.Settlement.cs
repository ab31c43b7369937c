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
    public async Task DeliverResultAsync(string leaseId, string deviceId, ShardOutput output)
    {
        // A result for a lease this job no longer holds open (late, duplicate, after cancel) is never paid.
        if (S.Status is not (JobStatus.Queued or JobStatus.Running)) return;
        if (!TryFindLease(leaseId, deviceId, out var shard, out var lease) || lease.Status != LeaseStatus.Open) return;
        lease.Status = LeaseStatus.Delivered;

        if (!shard.Audited)
        {
            Settle(shard, lease, Verdict.Unaudited);
            Accept(shard, output);
        }
        else
        {
            var verification = GrainFactory.GetGrain<IVerificationGrain>(RefOf(shard).ToString());
            var entry = new VerificationEntry(deviceId, leaseId, S.Spec!.Kind, _options.Tolerances.For(S.Spec.Kind), output);
            await ApplyDecisionAsync(shard, await verification.AddResultAsync(entry));
        }

        await state.WriteStateAsync();
        await FlushOutboxesAsync();
        if (S.Shards.Values.All(s => s.Done)) await CompleteRoundAsync();
        else await DispatchAsync();
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
            await DispatchAsync();
            return;
        }
        S.Round = S.Rounds;
        await FinishAsync(JobStatus.Completed, null);
    }
}
