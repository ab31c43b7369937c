using Huginn.Blobs;
using Huginn.Grains.Devices;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Routing;
using Huginn.Grains.Routing;
using Huginn.Workloads;
using Microsoft.Extensions.Logging;

namespace Huginn.Grains.Jobs;

/// <summary>Routing shards to devices and keeping their leases.</summary>
public sealed partial class JobGrain
{
    /// <summary>Devices a single dispatch pass may try for one shard before leaving it queued until the next sweep.</summary>
    private const int OffersPerShardPerPass = 4;

    private async Task StartRoundAsync(int round)
    {
        if (S.Weights.Length > 0)
        {
            // Serialized, hashed and stored off the grain's turn; the job keeps only the id.
            var weights = S.Weights;
            var put = await Task.Run(() => blobs.PutAsync(WeightsFormat.ToBytes(weights)));
            if (!put.Succeeded)
            {
                // Workers could not fetch the weights: the job ends (refunded) rather than failing every shard.
                await FinishAsync(JobStatus.Failed, $"the blob store refused round {round + 1}'s weights ({put.Outcome})");
                return;
            }
            await blobs.AddReferenceAsync(put.BlobId!, JobInputs.BlobHolder(JobId));
            S.WeightsBlobId = put.BlobId;
        }
        S.Round = round;
        S.Shards = Enumerable.Range(0, S.ShardsPerRound).ToDictionary(i => i, i => new ShardState { Index = i });
        await ReportLoadAsync();
        S.RoundSums = S.Spec!.Kind == WorkloadKind.Train ? new double[S.Weights.Length] : [];
        S.RoundSamples = 0;
        S.RoundLossSum = 0;
    }

    private ShardRef RefOf(ShardState shard) => new(JobId, S.Round, shard.Index, shard.Attempt);

    /// <summary>Shards routed side by side at most, once a pass has seen that devices are free.</summary>
    private const int MaxShardsInFlight = 32;

    /// <summary>Leases routed but not yet recorded on their shard: the budget holds them back like active ones.</summary>
    private int _leasesBeingOffered;

    /// <summary>
    /// Leases every shard that still needs results, as far as devices and budget allow. Shards are routed in
    /// waves that run side by side: the first wave is as large as the slots the caller expects to be free
    /// (<paramref name="expectedFreeSlots"/>, e.g. the results just settled), and each wave that found devices
    /// for all its shards doubles the next. A pass ends at the first shard nobody could take without any
    /// exclusion: every shard of a job has the same requirement, so the rest would ask the router in vain.
    /// </summary>
    private async Task DispatchAsync(int expectedFreeSlots = 1)
    {
        if (S.Status is not (JobStatus.Queued or JobStatus.Running)) return;
        var waiting = new Queue<ShardState>(S.Shards.Values.Where(s => !s.Done && s.Active.Count() < s.RequiredResults).OrderBy(s => s.Index));
        var wave = Math.Clamp(expectedFreeSlots, 1, MaxShardsInFlight);
        var outcomes = new List<DispatchOutcome>();
        while (waiting.Count > 0)
        {
            var shards = Enumerable.Range(0, Math.Min(wave, waiting.Count)).Select(_ => waiting.Dequeue()).ToList();
            var waveOutcomes = await Task.WhenAll(shards.Select(LeaseShardAsync));
            outcomes.AddRange(waveOutcomes);
            if (waveOutcomes.Any(o => o is DispatchOutcome.BudgetShort or DispatchOutcome.PoolFull)) break;
            wave = Math.Min(wave * 2, MaxShardsInFlight);
        }
        if (outcomes.Any(o => o is DispatchOutcome.Leased or DispatchOutcome.Changed))
        {
            if (S.Status == JobStatus.Queued) S.Status = JobStatus.Running;
            await state.WriteStateAsync();
        }
        // Results awaiting a tie-break cannot progress without a new lease: only running leases keep the job alive.
        if (outcomes.Contains(DispatchOutcome.BudgetShort) && !S.Shards.Values.Any(s => s.Leases.Any(l => l.Status == LeaseStatus.Open)))
        {
            await FinishAsync(JobStatus.Failed, "budget exhausted: the escrow cannot pay for the remaining shards");
        }
    }

    private enum DispatchOutcome
    {
        /// <summary>At least one lease was added (or none was needed).</summary>
        Leased,
        /// <summary>No lease, but the shard's exclusions were lifted: it will find a device on a later pass.</summary>
        Changed,
        /// <summary>No device could take it now, with exclusions in the way.</summary>
        NotNow,
        /// <summary>No device could take it even without exclusions: the pool is full for this job.</summary>
        PoolFull,
        /// <summary>The escrow cannot hold back the price of another lease.</summary>
        BudgetShort,
    }

    /// <summary>Leases one shard up to its required results, trying a few devices.</summary>
    private async Task<DispatchOutcome> LeaseShardAsync(ShardState shard)
    {
        var outcome = DispatchOutcome.NotNow;
        var refused = new HashSet<string>();
        for (var tries = 0; tries < OffersPerShardPerPass && shard.Active.Count() < shard.RequiredResults; tries++)
        {
            if (!CanReserveAnotherLease()) return outcome == DispatchOutcome.Leased ? outcome : DispatchOutcome.BudgetShort;
            var unconstrained = refused.Count == 0 && shard.ExcludedDevices.Count == 0 && !shard.Active.Any();
            _leasesBeingOffered++;
            bool? leased;
            try
            {
                leased = await TryLeaseAsync(shard, refused);
            }
            finally
            {
                _leasesBeingOffered--;
            }
            if (leased is null)
            {
                if (outcome == DispatchOutcome.Leased) return outcome;
                // Every device that could take it failed it once: let them try again rather than wait forever.
                // Failures stay counted, so a shard that fails everywhere fails its job (MaxShardFailures).
                if (shard.ExcludedDevices.Count > 0 && refused.Count == 0)
                {
                    shard.ExcludedDevices.Clear();
                    return DispatchOutcome.Changed;
                }
                return unconstrained ? DispatchOutcome.PoolFull : DispatchOutcome.NotNow;
            }
            if (leased == true) outcome = DispatchOutcome.Leased;
        }
        return outcome;
    }

    /// <summary>Routes one more lease for the shard. Null when no device could take it now; false when one refused.</summary>
    private async Task<bool?> TryLeaseAsync(ShardState shard, HashSet<string> refused)
    {
        var active = shard.Active.ToList();
        var request = new RouteRequest
        {
            Requirement = S.Requirement!,
            MaxDuration = _options.MaxLeaseDuration,
            ExcludedDevices = [.. shard.ExcludedDevices, .. refused, .. active.Select(l => l.DeviceId)],
            ExcludedOwners = active.Select(l => l.OwnerAccountId).Distinct().ToArray(),
            PreferredClass = active.FirstOrDefault()?.HardwareClass,
            InputBlobIds = InputBlobIds(),
        };
        var decision = await GrainFactory.GetGrain<IShardRouterGrain>(0).RouteAsync(request);
        if (decision is null) return null;

        var leaseDuration = ShardTiming.LeaseDuration(decision.ExpectedSeconds, _options);
        var shardRef = RefOf(shard);
        var plan = Plan.Shard(S.Round, shard.Index);
        var assignment = new ShardAssignment
        {
            LeaseId = Guid.NewGuid().ToString("N"),
            JobId = JobId,
            Spec = S.Spec!,
            Shard = plan,
            Weights = [],
            WeightsBlobId = S.WeightsBlobId,
            InputBlobIds = InputBlobIds(),
            Deadline = time.GetUtcNow() + leaseDuration,
            PriceMicroHu = S.ShardPriceMicroHu,
        };
        var offer = await GrainFactory.GetGrain<IDeviceGrain>(decision.DeviceId).OfferAsync(assignment, shardRef);
        if (!offer.Accepted)
        {
            refused.Add(decision.DeviceId);
            await GrainFactory.GetGrain<IDevicePartitionGrain>(
                RoutingPartitions.KeyFor(decision.HardwareClass, decision.DeviceId, _options.PartitionsPerClass)).ReleaseAsync(decision.DeviceId);
            return false;
        }

        shard.Leases.Add(new LeaseState
        {
            LeaseId = assignment.LeaseId,
            DeviceId = decision.DeviceId,
            OwnerAccountId = decision.OwnerAccountId,
            HardwareClass = decision.HardwareClass,
            Deadline = assignment.Deadline,
            Status = LeaseStatus.Open,
        });
        if (!shard.AuditDecided)
        {
            // Decided against the first device's own rate; the device cannot tell an audited shard from another.
            shard.AuditDecided = true;
            shard.Audited = AuditPolicy.Draw(_options.AuditSalt, shardRef.ToString()) < offer.AuditRate;
            shard.RequiredResults = shard.Audited ? 2 : 1;
        }
        logger.LogDebug("Job {JobId}: {Shard} leased to {DeviceId} until {Deadline}", JobId, shardRef, decision.DeviceId, assignment.Deadline);
        return true;
    }

    private string[] InputBlobIds() =>
        new[] { S.Spec!.Dataset.BlobId, S.WeightsBlobId }.OfType<string>().ToArray();

    /// <summary>
    /// Every lease still open or awaiting its verdict holds back its price from the escrow, and the fee is held
    /// on everything paid or held: the final charge can never exceed the escrow.
    /// </summary>
    private bool CanReserveAnotherLease()
    {
        var held = S.PaidMicroHu + (S.Shards.Values.Sum(s => s.Active.Count()) + _leasesBeingOffered + 1L) * S.ShardPriceMicroHu;
        return held + Pricing.FeeMicroHu(held, _options.Pricing) <= S.EscrowMicroHu;
    }

    public async Task LeaseLostAsync(string leaseId, string deviceId, LeaseEndReason reason, bool malformed)
    {
        if (!TryFindLease(leaseId, deviceId, out var shard, out var lease) || lease.Status != LeaseStatus.Open) return;
        lease.Status = LeaseStatus.Lost;
        shard.ExcludedDevices.Add(deviceId);
        // A device that went away says nothing about the shard; one that gave it back or botched it does.
        if (malformed || reason == LeaseEndReason.Released) shard.Failures++;
        if (malformed)
        {
            // A malformed result is wrong on its face: it counts as an invalid verdict without needing a second device.
            S.DevicesCaught.Add(deviceId);
            S.VerdictOutbox.Add(new PendingVerdict(deviceId, new VerdictNotice(RefOf(shard), leaseId, Verdict.Invalid)));
        }
        logger.LogInformation("Job {JobId}: lease {LeaseId} on {DeviceId} lost ({Reason}{Malformed}); shard {Index} goes elsewhere",
            JobId, leaseId, deviceId, reason, malformed ? ", malformed result" : "", shard.Index);
        await state.WriteStateAsync();
        await FlushOutboxesAsync();
        if (!await FailIfShardExhaustedAsync(shard, reason.ToString())) await DispatchAsync();
    }

    /// <summary>A shard that keeps failing on device after device will not succeed: the job fails cleanly, refunding the rest.</summary>
    private async Task<bool> FailIfShardExhaustedAsync(ShardState shard, string lastReason)
    {
        if (shard.Failures < _options.MaxShardFailures || !IsActive) return false;
        await FinishAsync(JobStatus.Failed,
            $"shard {shard.Index} of round {S.Round + 1} failed on {shard.Failures} leases (last: {lastReason.ToLowerInvariant()}); no device could run it");
        return true;
    }

    /// <summary>Timer: expires overdue leases, retries shards nobody could take, finishes interrupted settlements.</summary>
    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        if (!IsActive)
        {
            StopSweeping();
            return;
        }
        var now = time.GetUtcNow();
        var expired = S.Shards.Values
            .SelectMany(s => s.Leases.Where(l => l.Status == LeaseStatus.Open && l.Deadline < now).Select(l => (Shard: s, Lease: l)))
            .ToList();
        foreach (var (shard, lease) in expired)
        {
            lease.Status = LeaseStatus.Lost;
            shard.ExcludedDevices.Add(lease.DeviceId);
            shard.Failures++;
            logger.LogInformation("Job {JobId}: lease {LeaseId} on {DeviceId} expired; shard {Index} goes elsewhere",
                JobId, lease.LeaseId, lease.DeviceId, shard.Index);
        }
        if (expired.Count > 0) await state.WriteStateAsync();
        foreach (var (_, lease) in expired)
        {
            await GrainFactory.GetGrain<IDeviceGrain>(lease.DeviceId).EndLeaseAsync(lease.LeaseId, LeaseEndReason.Expired);
        }
        if (S.TransferOutbox.Count > 0 || S.VerdictOutbox.Count > 0) await FlushOutboxesAsync();
        foreach (var (shard, _) in expired)
        {
            if (await FailIfShardExhaustedAsync(shard, "expired")) return;
        }
        await DispatchAsync(expectedFreeSlots: expired.Count);
    }

    private bool TryFindLease(string leaseId, string deviceId, out ShardState shard, out LeaseState lease)
    {
        foreach (var s in S.Shards.Values)
        {
            foreach (var l in s.Leases)
            {
                if (l.LeaseId == leaseId && l.DeviceId == deviceId)
                {
                    (shard, lease) = (s, l);
                    return true;
                }
            }
        }
        (shard, lease) = (null!, null!);
        return false;
    }
}
