using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Rules;

namespace Huginn.Grains.Jobs;

/// <summary>
/// One round of a job: its shards, their leases, how many results each still needs, and who is excluded from
/// which shard. Pure and persisted as part of the job's state; every change of a shard's life is one method here,
/// so the transitions read and test without a cluster (Tests/Rules/RoundTests.cs). The job grain performs what
/// the transitions return (tell a device, pay, verify).
/// <code>
///   waiting ──lease──▶ open ──result──▶ delivered ──verdict──▶ settled ──(all results agree)──▶ done
///                        └──expired / lost / released / malformed──▶ lost (device excluded, maybe a failure)
///   delivered ──disagree──▶ a third result needed; ──no majority──▶ new attempt (audited, disputers excluded)
/// </code>
/// </summary>
[GenerateSerializer, Alias("huginn.round")]
public sealed class Round
{
    /// <summary>0-based; equals the job's round count once every round is done.</summary>
    [Id(0)] public int Number { get; set; }
    /// <summary>This round's shards by index.</summary>
    [Id(1)] public Dictionary<int, ShardState> Shards { get; set; } = [];

    public static Round Start(int number, int shards) =>
        new() { Number = number, Shards = Enumerable.Range(0, shards).ToDictionary(i => i, i => new ShardState { Index = i }) };

    /// <summary>A round past the last one: the job is done.</summary>
    public static Round Finished(int rounds) => new() { Number = rounds };

    public bool IsComplete => Shards.Values.All(s => s.Done);

    public int ShardsDone => Shards.Values.Count(s => s.Done);

    /// <summary>Shards that need another lease now, lowest index first.</summary>
    public IEnumerable<ShardState> Waiting() =>
        Shards.Values.Where(s => !s.Done && s.ActiveCount < s.RequiredResults).OrderBy(s => s.Index);

    /// <summary>Leases that hold back part of the escrow: running, or delivered and awaiting the verdict.</summary>
    public int ActiveLeases => Shards.Values.Sum(s => s.ActiveCount);

    public bool AnyOpenLease => Shards.Values.Any(s => s.Leases.Any(l => l.Status == LeaseStatus.Open));

    /// <summary>Every lease still running, for revoking them when the job ends.</summary>
    public IEnumerable<LeaseState> OpenLeases() => Shards.Values.SelectMany(s => s.Leases.Where(l => l.Status == LeaseStatus.Open));

    public ShardRef RefOf(string jobId, ShardState shard) => new(jobId, Number, shard.Index, shard.Attempt);

    /// <summary>
    /// Records a lease a device accepted. The first lease of an attempt fixes whether it is audited: a draw keyed by
    /// the pool's secret salt and the shard against that device's own audit rate (<see cref="AuditPolicy"/>).
    /// </summary>
    public void AddLease(ShardState shard, LeaseState lease, string shardKey, double auditRate, string auditSalt)
    {
        shard.Leases.Add(lease);
        if (shard.AuditDecided) return;
        shard.AuditDecided = true;
        shard.Audited = AuditPolicy.Draw(auditSalt, shardKey) < auditRate;
        shard.RequiredResults = shard.Audited ? 2 : 1;
    }

    /// <summary>A result arrived for an open lease: it now awaits its verdict. False for any other lease (late, duplicate, foreign).</summary>
    public bool TryDeliver(string leaseId, string deviceId, out ShardState shard, out LeaseState lease)
    {
        if (!TryFindLease(leaseId, deviceId, out shard, out lease) || lease.Status != LeaseStatus.Open) return false;
        lease.Status = LeaseStatus.Delivered;
        return true;
    }

    /// <summary>
    /// A lease ended without a usable result: the shard goes to another device. A device that went away says
    /// nothing about the shard; one that gave it back, let it expire or sent a malformed result counts as a failure
    /// of the shard (<see cref="IsExhausted"/>), and becomes its <see cref="ShardState.LastFailure"/> with what the device
    /// said (<paramref name="detail"/>, quoted as the device's words). False when the lease was not open.
    /// </summary>
    /// <remarks>
    /// A release's error <paramref name="code"/> is recorded with its owner (<see cref="DeterministicFailure.Record"/>):
    /// check <see cref="DeterministicFailure.ConclusiveCode"/> on the shard's codes after this.
    /// </remarks>
    public bool TryLose(string leaseId, string deviceId, LeaseEndReason reason, bool malformed, string? detail, string? code, out ShardState shard)
    {
        if (!TryFindLease(leaseId, deviceId, out shard, out var lease) || lease.Status != LeaseStatus.Open) return false;
        var counts = CountsAsShardFailure(reason, malformed);
        var failure = !counts ? null
            : (malformed ? "malformed result" : reason.ToString().ToLowerInvariant()) + (code is null ? "" : $", {code}") + (detail is null ? "" : $" (\"{detail}\")");
        Lose(shard, lease, failure, IsOwnersDoing(reason, malformed));
        if (counts && reason == LeaseEndReason.Released && !malformed)
        {
            shard.LastFailureCode = code;
            shard.LastFailureText = detail;
            DeterministicFailure.Record(shard.OwnersByFailureCode, lease.OwnerAccountId, code);
        }
        return true;
    }

    /// <summary>Open leases past their deadline, now lost; each counts as a failure of its shard.</summary>
    public List<(ShardState Shard, LeaseState Lease)> Expire(DateTimeOffset now)
    {
        var expired = Shards.Values
            .SelectMany(s => s.Leases.Where(l => l.Status == LeaseStatus.Open && l.Deadline < now).Select(l => (Shard: s, Lease: l)))
            .ToList();
        foreach (var (shard, lease) in expired) Lose(shard, lease, failure: "expired", ownersDoing: false);
        return expired;
    }

    /// <summary>
    /// A shard that devices of this many distinct owners failed will not succeed elsewhere (<see cref="PoolOptions.MaxShardFailures"/>).
    /// Counted by owner: one contributor's devices giving every shard back count once, so they cannot fail a job.
    /// The other way a shard is exhausted: no online device of an owner that has not failed it can run it
    /// (the dispatcher asks the router, <c>IShardRouterGrain.AnyEligibleAsync</c>).
    /// </summary>
    public static bool IsExhausted(ShardState shard, PoolOptions options) =>
        shard.FailedOwnerCount >= options.MaxShardFailures || shard.Failures >= options.MaxShardLeaseFailures;

    /// <summary>Owners whose devices failed the shard <see cref="PoolOptions.MaxShardFailuresPerOwner"/> times: none of their devices gets it again.</summary>
    public static IEnumerable<string> ExcludedOwners(ShardState shard, PoolOptions options) =>
        shard.OwnerFailures.Where(o => o.Value >= options.MaxShardFailuresPerOwner).Select(o => o.Key);

    /// <summary>The devices of each owner on this round's leases: one scan, made once per dispatch pass (<see cref="OwnerCaps"/>).</summary>
    public Dictionary<string, HashSet<string>> DevicesByOwner()
    {
        var devicesByOwner = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var shard in Shards.Values)
        {
            foreach (var lease in shard.Leases) NoteDevice(devicesByOwner, lease.OwnerAccountId, lease.DeviceId);
        }
        return devicesByOwner;
    }

    /// <summary>Adds a device to its owner's set; true when the set grew.</summary>
    public static bool NoteDevice(Dictionary<string, HashSet<string>> devicesByOwner, string owner, string device)
    {
        if (!devicesByOwner.TryGetValue(owner, out var devices)) devicesByOwner[owner] = devices = [];
        return devices.Add(device);
    }

    /// <summary>
    /// Owners that already have <paramref name="maxDevicesPerOwner"/> devices on the round, and those devices: the only
    /// ones of theirs that may take more of it (<see cref="PoolOptions.MaxDevicesPerOwnerPerJob"/>).
    /// </summary>
    public static (string[] Owners, string[] TheirDevices) OwnerCaps(Dictionary<string, HashSet<string>> devicesByOwner, int maxDevicesPerOwner)
    {
        var capped = devicesByOwner.Where(o => o.Value.Count >= maxDevicesPerOwner).ToList();
        return ([.. capped.Select(o => o.Key)], [.. capped.SelectMany(o => o.Value)]);
    }

    /// <summary>
    /// Whether a shard that owners failed has nobody left: no online device of another owner could take it (busy or not,
    /// <paramref name="anyEligible"/>), and that has lasted <see cref="PoolOptions.NoEligibleDeviceGrace"/>. The grace
    /// keeps a pool-wide blip (every device offline for seconds while an Api restarts) from failing jobs; a shard that
    /// fails on every device online still fails within it, with the real reason.
    /// </summary>
    public static bool NobodyLeft(ShardState shard, bool anyEligible, DateTimeOffset now, PoolOptions options)
    {
        if (anyEligible)
        {
            shard.NoEligibleSince = null;
            return false;
        }
        shard.NoEligibleSince ??= now;
        return now - shard.NoEligibleSince.Value >= options.NoEligibleDeviceGrace;
    }

    /// <summary>
    /// Nobody could take the shard: lift the device exclusions (devices that went away or disputed it) and let them
    /// try again rather than wait forever. The owners that failed it too often stay excluded (<see cref="ExcludedOwners"/>,
    /// <see cref="Exclusions"/>): lifting them is what let two devices that give every lease back fail a job while
    /// honest devices were busy.
    /// </summary>
    public static bool TryLiftExclusions(ShardState shard)
    {
        if (shard.ExcludedDevices.Count == 0) return false;
        shard.ExcludedDevices.Clear();
        return true;
    }

    /// <summary>The lease now has a verdict (paid or rejected).</summary>
    public static void Settle(LeaseState lease) => lease.Status = LeaseStatus.Settled;

    /// <summary>The shard's result is accepted: nothing more runs for it.</summary>
    public static void Accept(ShardState shard) => shard.Done = true;

    /// <summary>Two results disagree: a third device breaks the tie.</summary>
    public static void RequireTieBreak(ShardState shard) => shard.RequiredResults = 3;

    /// <summary>Leases still running once the shard is decided: no longer needed.</summary>
    public static List<LeaseState> EndSurplus(ShardState shard)
    {
        var surplus = shard.Leases.Where(l => l.Status == LeaseStatus.Open).ToList();
        foreach (var lease in surplus) lease.Status = LeaseStatus.Lost;
        return surplus;
    }

    /// <summary>
    /// No two results agree: the shard runs again as a new attempt, audited, on other devices. The devices that
    /// disputed it are excluded; the caller settles their leases as disputed before this.
    /// </summary>
    public static void Retry(ShardState shard, IEnumerable<string> disputers)
    {
        foreach (var device in disputers) shard.ExcludedDevices.Add(device);
        shard.Attempt++;
        shard.Leases.Clear();
        shard.AuditDecided = true;
        shard.Audited = true;
        shard.RequiredResults = 2;
    }

    /// <summary>Leases delivered for this attempt and awaiting a verdict.</summary>
    public static IEnumerable<LeaseState> Delivered(ShardState shard) => shard.Leases.Where(l => l.Status == LeaseStatus.Delivered);

    /// <summary>
    /// What the next lease of this shard must avoid: devices that failed it, those already on it, the owners of those
    /// already on it (an audit must come from another owner) and the owners that failed it too often
    /// (<see cref="ExcludedOwners"/>); an audit prefers the first device's class.
    /// </summary>
    public static (string[] Devices, string[] Owners, string? PreferredClass) Exclusions(ShardState shard, IReadOnlyCollection<string> refused, PoolOptions options)
    {
        var active = shard.Active.ToList();
        return (
            [.. shard.ExcludedDevices, .. refused, .. active.Select(l => l.DeviceId)],
            active.Select(l => l.OwnerAccountId).Concat(ExcludedOwners(shard, options)).Distinct().ToArray(),
            active.FirstOrDefault()?.HardwareClass);
    }

    /// <summary>Whether a lease-loss reason says something about the shard (as opposed to the device going away).</summary>
    /// <summary>
    /// Whether a lost lease is something its device did, which counts against its owner for this shard: it gave the
    /// lease back or sent a malformed result. An expiry is not: an Api restart or a network cut lets every device's
    /// leases expire at once (seen in the process rehearsal), and honest owners must not be excluded for it. Expiries
    /// still count as failures of the shard (<see cref="PoolOptions.MaxShardLeaseFailures"/>) and against the device.
    /// </summary>
    public static bool IsOwnersDoing(LeaseEndReason reason, bool malformed) => malformed || reason == LeaseEndReason.Released;

    public static bool CountsAsShardFailure(LeaseEndReason reason, bool malformed) =>
        malformed || reason is LeaseEndReason.Released or LeaseEndReason.Expired;

    /// <param name="failure">How the lease failed the shard, or null when its loss says nothing about the shard.</param>
    private static void Lose(ShardState shard, LeaseState lease, string? failure, bool ownersDoing)
    {
        lease.Status = LeaseStatus.Lost;
        shard.ExcludedDevices.Add(lease.DeviceId);
        if (failure is null) return;
        shard.Failures++;
        shard.LastFailure = failure;
        if (ownersDoing) shard.OwnerFailures[lease.OwnerAccountId] = shard.OwnerFailures.GetValueOrDefault(lease.OwnerAccountId) + 1;
    }

    private bool TryFindLease(string leaseId, string deviceId, out ShardState shard, out LeaseState lease)
    {
        foreach (var s in Shards.Values)
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
