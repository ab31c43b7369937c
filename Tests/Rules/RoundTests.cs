using Huginn.Grains;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Jobs;

namespace Huginn.Tests.Rules;

/// <summary>A round's transitions without a cluster: the shard's life as <see cref="Round"/> describes it.</summary>
public sealed class RoundTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static LeaseState Lease(string id, string device, string owner = "owner", int minutes = 10) => new()
    {
        LeaseId = id, DeviceId = device, OwnerAccountId = owner, HardwareClass = "cpu-16g", Deadline = Now.AddMinutes(minutes), Status = LeaseStatus.Open,
    };

    [Fact]
    public void A_new_round_waits_for_every_shard_in_index_order()
    {
        var round = Round.Start(2, shards: 3);

        Assert.Equal(2, round.Number);
        Assert.Equal([0, 1, 2], round.Waiting().Select(s => s.Index));
        Assert.False(round.IsComplete);
    }

    [Fact]
    public void The_first_lease_decides_the_audit_from_that_devices_rate()
    {
        var round = Round.Start(0, shards: 2);

        round.AddLease(round.Shards[0], Lease("a", "dev-a"), "job/r0/s0/a0", auditRate: 1.0, "salt");
        round.AddLease(round.Shards[1], Lease("b", "dev-b"), "job/r0/s1/a0", auditRate: 0.0, "salt");

        Assert.Equal((true, 2), (round.Shards[0].Audited, round.Shards[0].RequiredResults));
        Assert.Equal((false, 1), (round.Shards[1].Audited, round.Shards[1].RequiredResults));
        // The audited shard still needs a second device; the other does not.
        Assert.Equal([0], round.Waiting().Select(s => s.Index));
        // A second lease does not draw again.
        round.AddLease(round.Shards[1], Lease("c", "dev-c"), "job/r0/s1/a0", auditRate: 1.0, "salt");
        Assert.False(round.Shards[1].Audited);
    }

    [Fact]
    public void A_result_is_delivered_only_for_an_open_lease_of_that_device()
    {
        var round = Round.Start(0, shards: 1);
        round.AddLease(round.Shards[0], Lease("a", "dev-a"), "k", 0, "salt");

        Assert.False(round.TryDeliver("a", "dev-b", out _, out _));
        Assert.True(round.TryDeliver("a", "dev-a", out var shard, out var lease));
        Assert.Equal(LeaseStatus.Delivered, lease.Status);
        Assert.False(round.TryDeliver("a", "dev-a", out _, out _));
        Assert.Equal(1, round.ActiveLeases);
        Assert.Same(round.Shards[0], shard);
    }

    [Fact]
    public void A_device_going_away_excludes_it_without_counting_against_the_shard()
    {
        var round = Round.Start(0, shards: 1);
        round.AddLease(round.Shards[0], Lease("a", "dev-a"), "k", 0, "salt");
        round.AddLease(round.Shards[0], Lease("b", "dev-b"), "k", 0, "salt");

        Assert.True(round.TryLose("a", "dev-a", LeaseEndReason.DeviceOffline, malformed: false, detail: null, code: null, out var shard));
        Assert.True(round.TryLose("b", "dev-b", LeaseEndReason.Released, malformed: false, detail: null, code: null, out _));

        Assert.Equal(1, shard.Failures);
        Assert.Equal(["dev-a", "dev-b"], shard.ExcludedDevices.Order());
        Assert.False(round.TryLose("a", "dev-a", LeaseEndReason.Released, malformed: false, detail: null, code: null, out _));
    }

    [Fact]
    public void Overdue_leases_expire_and_count_as_failures()
    {
        var round = Round.Start(0, shards: 2);
        round.AddLease(round.Shards[0], Lease("late", "dev-a", minutes: 1), "k0", 0, "salt");
        round.AddLease(round.Shards[1], Lease("on-time", "dev-b", minutes: 30), "k1", 0, "salt");

        var expired = round.Expire(Now.AddMinutes(5));

        Assert.Equal(["late"], expired.Select(e => e.Lease.LeaseId));
        Assert.Equal(1, round.Shards[0].Failures);
        Assert.Equal(LeaseStatus.Open, round.Shards[1].Leases[0].Status);
    }

    [Fact]
    public void A_shard_is_exhausted_by_failures_of_distinct_owners_not_by_one_owners_many_devices()
    {
        var options = new PoolOptions { MaxShardFailures = 2 };
        var round = Round.Start(0, shards: 1);
        var shard = round.Shards[0];
        foreach (var device in new[] { "grief-1", "grief-2", "grief-3" })
        {
            round.AddLease(shard, Lease($"l-{device}", device, owner: "griefer"), "k", 0, "salt");
            round.TryLose($"l-{device}", device, LeaseEndReason.Released, malformed: false, detail: null, code: null, out _);
        }

        Assert.Equal(3, shard.Failures);
        Assert.False(Round.IsExhausted(shard, options));
        round.AddLease(shard, Lease("l-b", "dev-b", owner: "bob"), "k", 0, "salt");
        round.TryLose("l-b", "dev-b", LeaseEndReason.Released, malformed: false, detail: null, code: null, out _);
        Assert.True(Round.IsExhausted(shard, options));
    }

    [Fact]
    public void An_owner_that_failed_a_shard_twice_stays_excluded_from_it_when_device_exclusions_are_lifted()
    {
        var round = Round.Start(0, shards: 1);
        var shard = round.Shards[0];
        round.AddLease(shard, Lease("g", "grief-1", owner: "griefer"), "k", 0, "salt");
        round.TryLose("g", "grief-1", LeaseEndReason.Released, malformed: false, detail: null, code: null, out _);
        // Once is forgiven: an Api restart makes honest workers give back what they could not fetch.
        Assert.Empty(Round.ExcludedOwners(shard, new PoolOptions()));
        round.AddLease(shard, Lease("g2", "grief-2", owner: "griefer"), "k", 0, "salt");
        round.TryLose("g2", "grief-2", LeaseEndReason.Released, malformed: false, detail: null, code: null, out _);
        round.AddLease(shard, Lease("o", "dev-c", owner: "carol"), "k", 0, "salt");
        round.TryLose("o", "dev-c", LeaseEndReason.DeviceOffline, malformed: false, detail: null, code: null, out _);

        Assert.True(Round.TryLiftExclusions(shard));

        var (devices, owners, _) = Round.Exclusions(shard, [], new PoolOptions());
        Assert.Empty(devices);
        Assert.Equal(2, shard.Failures);
        // The device that went offline may come back; the owner that gave the shard back may not, with any device.
        Assert.Equal(["griefer"], owners);
    }

    [Fact]
    public void A_disputed_shard_runs_again_audited_without_the_disputers()
    {
        var round = Round.Start(0, shards: 1);
        var shard = round.Shards[0];
        round.AddLease(shard, Lease("a", "dev-a"), "k", 1.0, "salt");
        round.AddLease(shard, Lease("b", "dev-b", owner: "other"), "k", 1.0, "salt");
        round.TryDeliver("a", "dev-a", out _, out _);
        round.TryDeliver("b", "dev-b", out _, out _);

        Round.Retry(shard, ["dev-a", "dev-b"]);

        Assert.Equal(1, shard.Attempt);
        Assert.Empty(shard.Leases);
        Assert.Equal((true, 2), (shard.Audited, shard.RequiredResults));
        Assert.Equal("job/r0/s0/a1", round.RefOf("job", shard).ToString());
        Assert.Contains("dev-a", Round.Exclusions(shard, [], new PoolOptions()).Devices);
    }

    [Fact]
    public void An_audit_must_come_from_another_owner_and_prefers_the_first_devices_class()
    {
        var round = Round.Start(0, shards: 1);
        var shard = round.Shards[0];
        round.AddLease(shard, Lease("a", "dev-a", owner: "alice"), "k", 1.0, "salt");

        var (devices, owners, preferred) = Round.Exclusions(shard, refused: ["dev-x"], new PoolOptions());

        Assert.Equal(["dev-a", "dev-x"], devices.Order());
        Assert.Equal(["alice"], owners);
        Assert.Equal("cpu-16g", preferred);
    }

    [Fact]
    public void A_decided_shard_ends_its_surplus_leases_and_the_round_completes()
    {
        var round = Round.Start(0, shards: 1);
        var shard = round.Shards[0];
        round.AddLease(shard, Lease("a", "dev-a"), "k", 0, "salt");
        round.AddLease(shard, Lease("spare", "dev-b"), "k", 0, "salt");
        round.TryDeliver("a", "dev-a", out _, out var delivered);

        Round.Settle(delivered);
        var surplus = Round.EndSurplus(shard);
        Round.Accept(shard);

        Assert.Equal(["spare"], surplus.Select(l => l.LeaseId));
        Assert.Equal(LeaseStatus.Lost, surplus[0].Status);
        Assert.True(round.IsComplete);
        Assert.False(round.AnyOpenLease);
        Assert.Equal(0, round.ActiveLeases);
    }

    [Fact]
    public void Owners_with_as_many_devices_on_the_round_as_the_cap_are_capped_to_those_devices()
    {
        var round = Round.Start(0, shards: 3);
        round.AddLease(round.Shards[0], Lease("a", "farm-1", owner: "farmer"), "k0", 0, "salt");
        round.AddLease(round.Shards[1], Lease("b", "farm-2", owner: "farmer"), "k1", 0, "salt");
        round.AddLease(round.Shards[2], Lease("c", "dev-b", owner: "bob"), "k2", 0, "salt");

        var (owners, devices) = Round.OwnerCaps(round.DevicesByOwner(), maxDevicesPerOwner: 2);

        Assert.Equal(["farmer"], owners);
        Assert.Equal(["farm-1", "farm-2"], devices.Order());
    }

    [Fact]
    public void Expiries_exclude_no_owner_but_a_shard_that_times_out_everywhere_is_exhausted_in_the_end()
    {
        var options = new PoolOptions { MaxShardLeaseFailures = 3 };
        var round = Round.Start(0, shards: 1);
        var shard = round.Shards[0];
        for (var i = 0; i < 3; i++) round.AddLease(shard, Lease($"l{i}", $"dev-{i}", owner: "alice", minutes: 1), "k", 0, "salt");

        round.Expire(Now.AddMinutes(5));

        Assert.Empty(Round.ExcludedOwners(shard, options));
        Assert.Equal("expired", shard.LastFailure);
        Assert.True(Round.IsExhausted(shard, options));
    }

    [Fact]
    public void A_shard_with_nobody_left_fails_only_after_the_grace()
    {
        var options = new PoolOptions { NoEligibleDeviceGrace = TimeSpan.FromSeconds(60) };
        var shard = new ShardState();

        Assert.False(Round.NobodyLeft(shard, anyEligible: false, Now, options));
        Assert.False(Round.NobodyLeft(shard, anyEligible: false, Now.AddSeconds(59), options));
        // Someone came back: the clock starts again.
        Assert.False(Round.NobodyLeft(shard, anyEligible: true, Now.AddSeconds(59), options));
        Assert.False(Round.NobodyLeft(shard, anyEligible: false, Now.AddSeconds(100), options));
        Assert.True(Round.NobodyLeft(shard, anyEligible: false, Now.AddSeconds(160), options));
    }

    [Fact]
    public void Exclusions_are_lifted_only_when_there_are_some()
    {
        var shard = new ShardState();
        Assert.False(Round.TryLiftExclusions(shard));
        shard.ExcludedDevices.Add("dev-a");
        Assert.True(Round.TryLiftExclusions(shard));
        Assert.Empty(shard.ExcludedDevices);
    }
}
