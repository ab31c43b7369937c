using Huginn.Grains.Rules;
using Huginn.Workloads;

namespace Huginn.Grains;

/// <summary>The pool's rules that operators tune. Bound from configuration section "Huginn:Pool".</summary>
public sealed class PoolOptions
{
    public const string Section = "Huginn:Pool";

    /// <summary>A device that has not heartbeated for this long is offline and loses its leases.</summary>
    public TimeSpan HeartbeatTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often (real time) a running job checks its lease deadlines and retries shards nobody could take,
    /// and a device checks its heartbeat deadline. The deadlines themselves are judged on <see cref="PoolClock"/>.
    /// </summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often (real time) an online device checks its heartbeat and refreshes its routing entry.</summary>
    public TimeSpan DeviceCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Deadline = expected time on the chosen device × this factor + <see cref="LeaseGrace"/>.</summary>
    public double LeaseSafetyFactor { get; set; } = 3.0;

    public TimeSpan LeaseGrace { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>No lease is longer: a device too slow to finish a shard within it never gets that shard.</summary>
    public TimeSpan MaxLeaseDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Share of a device's advertised GFLOP/s a shard is expected to achieve (small kernels rarely reach peak).</summary>
    public double ComputeEfficiency { get; set; } = 0.25;

    /// <summary>Fixed cost of a shard on any device: transfer, setup, result upload.</summary>
    public TimeSpan ShardOverhead { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A shard that would take longer than this on a typical CPU (<see cref="ReferenceCpuGflops"/>) is heavy:
    /// it goes to the fastest capable class first. Lighter shards go to the smallest capable class first,
    /// which keeps big GPUs free for the work only they can do.
    /// </summary>
    public TimeSpan HeavyShardThreshold { get; set; } = TimeSpan.FromSeconds(10);

    public double ReferenceCpuGflops { get; set; } = 50;

    /// <summary>Routing partitions per hardware class. Devices hash into them; a partition should stay under ~2,000 devices.</summary>
    public int PartitionsPerClass { get; set; } = 8;

    /// <summary>Partitions a router asks per hardware class before moving to the next class.</summary>
    public int PartitionProbesPerClass { get; set; } = 3;

    /// <summary>
    /// A shard that devices of this many distinct owners failed (expired, given back, malformed) fails its job; so
    /// does one that no device of an owner who has not failed it can take (Round.IsExhausted).
    /// </summary>
    public int MaxShardFailures { get; set; } = 8;

    /// <summary>
    /// A shard whose leases failed this often in all (expiries included, which count against no owner) fails its job:
    /// a shard that times out on every device must not run forever.
    /// </summary>
    public int MaxShardLeaseFailures { get; set; } = 32;

    /// <summary>
    /// At most this many devices of one owner take part in one round of a job (its shards and audits): a farm of one
    /// contributor cannot take over a job, and its devices only ever audit other owners' work anyway. Checked once per
    /// dispatch pass (Round.OwnerCaps), so a pass may overshoot by the leases it adds.
    /// </summary>
    public int MaxDevicesPerOwnerPerJob { get; set; } = 16;

    /// <summary>
    /// Failures of one shard by one owner's devices after which none of that owner's devices gets it again. Two, not
    /// one: an Api restart makes honest workers give back the shards whose inputs they could not fetch, once.
    /// </summary>
    public int MaxShardFailuresPerOwner { get; set; } = 2;

    /// <summary>
    /// How long a shard that owners failed waits for a device of another owner before it fails its job (Round.NobodyLeft):
    /// long enough that an Api restart or a network blip, which takes every device offline for seconds, fails nothing.
    /// </summary>
    public TimeSpan NoEligibleDeviceGrace { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A device that gives back more than <see cref="MaxReleasesPerWindow"/> leases within <see cref="ReleaseWindow"/>
    /// is taken out of routing for <see cref="ReleaseCooldown"/> (Rules.ReleaseLimit): giving work back costs the
    /// device, not the jobs.
    /// </summary>
    public int MaxReleasesPerWindow { get; set; } = 5;
    public TimeSpan ReleaseWindow { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan ReleaseCooldown { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Lowest audit rate a trusted device reaches.</summary>
    public double AuditFloor { get; set; } = 0.05;

    /// <summary>Verified audits a device needs before its audit rate starts to fall below 100%.</summary>
    public int ProbationAudits { get; set; } = 3;

    /// <summary>Invalid verdicts after which a device is banned for good.</summary>
    public int BanAfterInvalidVerdicts { get; set; } = 3;

    /// <summary>Pay for unaudited shards stays pending (forfeitable) this long before it vests.</summary>
    public TimeSpan HoldingPeriod { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Salt of the audit draw, so that nobody outside the pool can predict which shards are audited.</summary>
    public string AuditSalt { get; set; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public PricingOptions Pricing { get; set; } = new();

    public ToleranceOptions Tolerances { get; set; } = new();
}
