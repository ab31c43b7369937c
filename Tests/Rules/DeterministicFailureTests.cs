using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Jobs;
using Huginn.Grains.Rules;
using Huginn.Workloads;

namespace Huginn.Tests.Rules;

/// <summary>The fail-fast rule: two owners, one deterministic code; never one owner, never a device's own trouble.</summary>
public sealed class DeterministicFailureTests
{
    [Fact]
    public void Two_owners_giving_a_shard_back_with_the_same_deterministic_code_conclude()
    {
        var codes = new Dictionary<string, HashSet<string>>();

        Assert.False(DeterministicFailure.Record(codes, "alice", ShardErrorCodes.InvalidData));
        Assert.Null(DeterministicFailure.ConclusiveCode(codes));
        Assert.True(DeterministicFailure.Record(codes, "bob", ShardErrorCodes.InvalidData));
        Assert.Equal(ShardErrorCodes.InvalidData, DeterministicFailure.ConclusiveCode(codes));
    }

    [Fact]
    public void One_owners_many_devices_never_conclude()
    {
        var codes = new Dictionary<string, HashSet<string>>();

        for (var i = 0; i < 10; i++) Assert.False(DeterministicFailure.Record(codes, "griefer", ShardErrorCodes.InvalidData));

        Assert.Null(DeterministicFailure.ConclusiveCode(codes));
    }

    [Theory]
    [InlineData(ShardErrorCodes.OutOfMemory)]
    [InlineData(ShardErrorCodes.DataUnavailable)]
    [InlineData(ShardErrorCodes.UnsupportedModel)]
    [InlineData(ShardErrorCodes.ShuttingDown)]
    [InlineData(ShardErrorCodes.Internal)]
    [InlineData("made_up")]
    [InlineData(null)]
    public void Codes_that_depend_on_the_device_never_conclude(string? code)
    {
        var codes = new Dictionary<string, HashSet<string>>();

        Assert.False(DeterministicFailure.Record(codes, "alice", code));
        Assert.False(DeterministicFailure.Record(codes, "bob", code));
        Assert.False(DeterministicFailure.Record(codes, "carol", code));

        Assert.Null(DeterministicFailure.ConclusiveCode(codes));
    }

    [Fact]
    public void Two_owners_with_different_deterministic_codes_do_not_conclude()
    {
        var codes = new Dictionary<string, HashSet<string>>();

        DeterministicFailure.Record(codes, "alice", ShardErrorCodes.InvalidData);
        DeterministicFailure.Record(codes, "bob", ShardErrorCodes.Nonfinite);

        Assert.Null(DeterministicFailure.ConclusiveCode(codes));
    }

    [Fact]
    public void A_round_records_a_releases_code_with_its_owner_and_the_workers_words()
    {
        var round = Round.Start(0, shards: 1);
        var shard = round.Shards[0];
        round.AddLease(shard, Lease("l1", "dev-a1", "alice"), "k", 0, "salt");
        round.AddLease(shard, Lease("l2", "dev-a2", "alice"), "k", 0, "salt");
        round.AddLease(shard, Lease("l3", "dev-b1", "bob"), "k", 0, "salt");
        round.AddLease(shard, Lease("l4", "dev-c1", "carol"), "k", 0, "salt");

        // Alice's two devices: one owner, however many devices.
        round.TryLose("l1", "dev-a1", LeaseEndReason.Released, malformed: false, "Class index 9 …", ShardErrorCodes.InvalidData, out _);
        round.TryLose("l2", "dev-a2", LeaseEndReason.Released, malformed: false, "Class index 9 …", ShardErrorCodes.InvalidData, out _);
        Assert.Null(DeterministicFailure.ConclusiveCode(shard.OwnersByFailureCode));
        // A device that goes offline says nothing about the shard, whatever code it came with.
        round.TryLose("l4", "dev-c1", LeaseEndReason.DeviceOffline, malformed: false, null, ShardErrorCodes.InvalidData, out _);
        Assert.Null(DeterministicFailure.ConclusiveCode(shard.OwnersByFailureCode));

        round.TryLose("l3", "dev-b1", LeaseEndReason.Released, malformed: false, "Class index 9 is not one of the model's 9 classes.", ShardErrorCodes.InvalidData, out _);

        Assert.Equal(ShardErrorCodes.InvalidData, DeterministicFailure.ConclusiveCode(shard.OwnersByFailureCode));
        Assert.Equal(["alice", "bob"], shard.OwnersByFailureCode[ShardErrorCodes.InvalidData].Order());
        Assert.Equal((ShardErrorCodes.InvalidData, "Class index 9 is not one of the model's 9 classes."), (shard.LastFailureCode, shard.LastFailureText));
        Assert.Equal("released, invalid_data (\"Class index 9 is not one of the model's 9 classes.\")", shard.LastFailure);
    }

    [Fact]
    public void The_reason_names_the_code_the_shard_and_the_workers_words()
    {
        Assert.Equal(
            "invalid_data: shard 3 of round 1 failed the same way on devices of 2 contributors: \"Class index 9 is not one of the model's 9 classes.\"; it depends only on the spec and its data, so the job stopped at once",
            DeterministicFailure.Reason(3, 1, ShardErrorCodes.InvalidData, 2, "Class index 9 is not one of the model's 9 classes."));
    }

    private static LeaseState Lease(string id, string device, string owner) => new()
    {
        LeaseId = id, DeviceId = device, OwnerAccountId = owner, HardwareClass = "cpu-16g",
        Deadline = new DateTimeOffset(2026, 1, 1, 0, 10, 0, TimeSpan.Zero), Status = LeaseStatus.Open,
    };
}
