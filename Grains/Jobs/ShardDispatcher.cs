using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Routing;
using Huginn.Grains.Rules;
using Huginn.Workloads;
using Microsoft.Extensions.Logging;

namespace Huginn.Grains.Jobs;

/// <summary>What the dispatcher needs to know of a job to lease its shards; fixed for a round.</summary>
/// <param name="OwnerAccountId">The client: never computes or audits its own job, whatever devices it may hold.</param>
public sealed record DispatchJob(
    string JobId,
    JobSpec Spec,
    JobPlan Plan,
    string? WeightsBlobId,
    long ShardPriceMicroHu,
    string OwnerAccountId,
    DatasetChunkList? DatasetChunks = null,
    long EvaluationPriceMicroHu = 0)
{
    /// <summary>Content ids of the inputs, so that routing prefers devices that hold them and workers fetch them once.</summary>
    public string[] InputBlobIds { get; } = new[] { Spec.Dataset.BlobId, Spec.Validation?.Dataset?.BlobId, WeightsBlobId }.OfType<string>().ToArray();
}

/// <summary>How a dispatch pass ended.</summary>
/// <param name="Changed">A lease was added or a shard's exclusions were lifted: the round must be persisted.</param>
/// <param name="BudgetShort">The escrow could not hold back the price of another lease.</param>
/// <param name="Exhausted">A shard that owners failed and no other online device can take (<see cref="Round.IsExhausted"/>): the job fails.</param>
public sealed record DispatchResult(bool Changed, bool BudgetShort, ShardState? Exhausted = null);

/// <summary>
/// Leases a round's shards to devices, as far as devices and budget allow: asks the router, offers the assignment
/// to the chosen device, and records the accepted lease on the <see cref="Round"/>. Runs on the job grain's turn
/// (it changes the round), but holds no state of its own beyond the leases it is offering right now.
/// </summary>
public sealed class ShardDispatcher(IGrainFactory grains, PoolOptions options, TimeProvider time, ILogger logger)
{
    /// <summary>Devices a single dispatch pass may try for one shard before leaving it queued until the next sweep.</summary>
    private const int OffersPerShardPerPass = 4;

    /// <summary>Shards routed side by side at most, once a pass has seen that devices are free.</summary>
    private const int MaxShardsInFlight = 32;

    /// <summary>Leases routed but not yet recorded on their shard: the budget holds them back like active ones.</summary>
    public int LeasesBeingOffered { get; private set; }

    private enum ShardOutcome
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
        /// <summary>Owners failed it and no online device of anyone else could ever take it.</summary>
        Exhausted,
    }

    /// <summary>
    /// Leases shards that still need results. Shards are routed in waves that run side by side: the first wave is as
    /// large as the slots the caller expects to be free (<paramref name="expectedFreeSlots"/>, e.g. the results just
    /// settled). When <paramref name="probe"/> is set (submission, a new round, the sweep), each wave that found
    /// devices for all its shards doubles the next, to find devices that joined; otherwise (results just settled) the
    /// pass stops after the slots its own results freed: probing on would cost a failed route (a router call and a
    /// few partition calls) after nearly every batch, and the sweep probes anyway. A pass ends at the first shard
    /// nobody could take without any exclusion: every shard of a job has the same requirement, so the rest would ask
    /// the router in vain.
    /// </summary>
    public async Task<DispatchResult> DispatchAsync(DispatchJob job, Round round, int expectedFreeSlots, bool probe, Func<int, bool> canReserveAnotherLease)
    {
        var waiting = new Queue<ShardState>(round.Waiting());
        _devicesByOwner = round.DevicesByOwner();
        _ownerCaps = Round.OwnerCaps(_devicesByOwner, options.MaxDevicesPerOwnerPerJob);
        var wave = Math.Clamp(expectedFreeSlots, 1, MaxShardsInFlight);
        var outcomes = new List<ShardOutcome>();
        while (waiting.Count > 0)
        {
            var shards = Enumerable.Range(0, Math.Min(wave, waiting.Count)).Select(_ => waiting.Dequeue()).ToList();
            var waveOutcomes = await Task.WhenAll(shards.Select(s => LeaseShardAsync(job, round, s, canReserveAnotherLease)));
            outcomes.AddRange(waveOutcomes);
            var exhausted = waveOutcomes.Select((o, i) => (o, i)).Where(x => x.o == ShardOutcome.Exhausted).Select(x => shards[x.i]).FirstOrDefault();
            if (exhausted is not null) return new DispatchResult(outcomes.Contains(ShardOutcome.Leased), false, exhausted);
            if (!probe || waveOutcomes.Any(o => o is ShardOutcome.BudgetShort or ShardOutcome.PoolFull)) break;
            wave = Math.Min(wave * 2, MaxShardsInFlight);
        }
        return new DispatchResult(
            outcomes.Any(o => o is ShardOutcome.Leased or ShardOutcome.Changed),
            outcomes.Contains(ShardOutcome.BudgetShort));
    }

    /// <summary>Leases one shard up to its required results, trying a few devices.</summary>
    private async Task<ShardOutcome> LeaseShardAsync(DispatchJob job, Round round, ShardState shard, Func<int, bool> canReserveAnotherLease)
    {
        var outcome = ShardOutcome.NotNow;
        var refused = new HashSet<string>();
        for (var tries = 0; tries < OffersPerShardPerPass && shard.ActiveCount < shard.RequiredResults; tries++)
        {
            if (!canReserveAnotherLease(LeasesBeingOffered)) return outcome == ShardOutcome.Leased ? outcome : ShardOutcome.BudgetShort;
            var unconstrained = refused.Count == 0 && shard.ExcludedDevices.Count == 0 && shard.ActiveCount == 0;
            LeasesBeingOffered++;
            bool? leased;
            try
            {
                leased = await TryLeaseAsync(job, round, shard, refused);
            }
            finally
            {
                LeasesBeingOffered--;
            }
            if (leased is null)
            {
                if (outcome == ShardOutcome.Leased) return outcome;
                if (refused.Count == 0 && Round.TryLiftExclusions(shard)) return ShardOutcome.Changed;
                // Owners that failed it stay excluded: if nobody else could ever take it, waiting would be forever.
                if (refused.Count == 0 && Round.ExcludedOwners(shard, options).Any())
                {
                    var anyEligible = await grains.GetGrain<IShardRouterGrain>(0).AnyEligibleAsync(Request(job, shard, refused));
                    if (Round.NobodyLeft(shard, anyEligible, time.GetUtcNow(), options)) return ShardOutcome.Exhausted;
                }
                return unconstrained ? ShardOutcome.PoolFull : ShardOutcome.NotNow;
            }
            if (leased == true) outcome = ShardOutcome.Leased;
        }
        return outcome;
    }

    /// <summary>
    /// The devices of each owner on the round, and the owners at the job's device cap with their devices
    /// (<see cref="Round.OwnerCaps"/>): made at the start of a pass and kept current as routing picks devices
    /// (<see cref="TakeOwnerSlot"/>); a device an offer then refused stays counted for the pass.
    /// </summary>
    private Dictionary<string, HashSet<string>> _devicesByOwner = [];
    private (string[] Owners, string[] TheirDevices) _ownerCaps = ([], []);

    /// <summary>What the next lease of the shard asks the router for: the job's requirement less the shard's exclusions.</summary>
    private RouteRequest Request(DispatchJob job, ShardState shard, HashSet<string> refused)
    {
        var (excludedDevices, excludedOwners, primaryClass) = Round.Exclusions(shard, refused, options);
        var (preferredClass, requiredClass) = Rules.Routing.AuditClass(job.Spec.Precision, primaryClass);
        return new RouteRequest
        {
            Requirement = RoundEvaluation.IsEvaluation(job.Plan, shard) ? job.Plan.EvaluationRequirement! : job.Plan.Requirement,
            MaxDuration = options.MaxLeaseDuration,
            ExcludedDevices = excludedDevices,
            ExcludedOwners = [.. excludedOwners, job.OwnerAccountId],
            PreferredClass = preferredClass,
            RequiredClass = requiredClass,
            AuditableClassOnly = Rules.Routing.NeedsAuditableClass(job.Spec.Precision, primaryClass),
            CappedOwners = _ownerCaps.Owners,
            CappedOwnersDevices = _ownerCaps.TheirDevices,
            InputBlobIds = job.InputBlobIds,
        };
    }

    /// <summary>
    /// Counts the chosen device against its owner's cap for the round (<see cref="PoolOptions.MaxDevicesPerOwnerPerJob"/>);
    /// false when the owner already has that many other devices on it. Checked after the router's answer, on the
    /// grain's turn, because the offers of one wave are routed side by side on requests made before any of them landed.
    /// </summary>
    private bool TakeOwnerSlot(RouteDecision decision)
    {
        if (_devicesByOwner.TryGetValue(decision.OwnerAccountId, out var devices) && devices.Contains(decision.DeviceId)) return true;
        if (devices is not null && devices.Count >= options.MaxDevicesPerOwnerPerJob) return false;
        Round.NoteDevice(_devicesByOwner, decision.OwnerAccountId, decision.DeviceId);
        if (_devicesByOwner[decision.OwnerAccountId].Count == options.MaxDevicesPerOwnerPerJob)
            _ownerCaps = Round.OwnerCaps(_devicesByOwner, options.MaxDevicesPerOwnerPerJob);
        return true;
    }

    /// <summary>Routes one more lease for the shard. Null when no device could take it now; false when the chosen one refused.</summary>
    private async Task<bool?> TryLeaseAsync(DispatchJob job, Round round, ShardState shard, HashSet<string> refused)
    {
        var decision = await grains.GetGrain<IShardRouterGrain>(0).RouteAsync(Request(job, shard, refused));
        if (decision is null) return null;
        if (!TakeOwnerSlot(decision))
        {
            // Routed on a request made before side-by-side offers filled the owner's cap: give the slot back, try another.
            await grains.GetGrain<IDevicePartitionGrain>(RoutingPartitions.KeyFor(decision.HardwareClass, decision.DeviceId, options.PartitionsPerClass))
                .ReleaseAsync(decision.DeviceId);
            refused.Add(decision.DeviceId);
            return false;
        }

        var shardRef = round.RefOf(job.JobId, shard);
        var plan = RoundEvaluation.PlanOf(job.Plan, round.Number, shard.Index);
        var chunks = job.DatasetChunks?.ForShard(job.Spec, plan);
        var assignment = new ShardAssignment
        {
            LeaseId = Guid.NewGuid().ToString("N"),
            JobId = job.JobId,
            Spec = job.Spec,
            Shard = plan,
            WeightsBlobId = job.WeightsBlobId,
            InputBlobIds = chunks is null ? job.InputBlobIds : [.. job.InputBlobIds, .. chunks.ChunkIds],
            DatasetChunks = chunks,
            Deadline = time.GetUtcNow() + Rules.Routing.LeaseDuration(decision.ExpectedSeconds, options),
            PriceMicroHu = RoundEvaluation.IsEvaluation(job.Plan, shard) ? job.EvaluationPriceMicroHu : job.ShardPriceMicroHu,
        };
        // A device that refuses (it went offline or filled up since its partition last heard of it) corrects its
        // partition entry itself, which also gives back the slot the router reserved.
        var offer = await grains.GetGrain<IDeviceGrain>(decision.DeviceId).OfferAsync(assignment, shardRef);
        if (!offer.Accepted)
        {
            refused.Add(decision.DeviceId);
            return false;
        }

        round.AddLease(shard, new LeaseState
        {
            LeaseId = assignment.LeaseId,
            DeviceId = decision.DeviceId,
            OwnerAccountId = decision.OwnerAccountId,
            HardwareClass = decision.HardwareClass,
            Deadline = assignment.Deadline,
            Status = LeaseStatus.Open,
        }, shardRef.ToString(), offer.AuditRate, options.AuditSalt);
        Telemetry.PoolMeters.ShardLeased(decision.HardwareClass);
        logger.LogDebug("Job {JobId}: {Shard} leased to {DeviceId} until {Deadline}", job.JobId, shardRef, decision.DeviceId, assignment.Deadline);
        return true;
    }
}
