using Huginn.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Serialization;
using Orleans.Storage;

namespace Huginn.Tests.Durable;

[Trait("Category", "Postgres")]
public sealed class GroupCommitGrainStorageTests
{
    private static readonly IGrainStorageSerializer Serializer = new OrleansGrainStorageSerializer(
        new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>());

    [Fact]
    public async Task Concurrent_writes_of_many_grains_share_commits_and_are_all_read_back_after_a_restart()
    {
        await using var database = await MigratedDatabaseAsync();
        const int grains = 300, writesEach = 3;
        await using (var storage = Open(database))
        {
            await Task.WhenAll(Enumerable.Range(0, grains).Select(async g =>
            {
                var state = new GrainState<string>();
                for (var w = 1; w <= writesEach; w++)
                {
                    state.State = $"grain {g} write {w}";
                    await storage.WriteStateAsync("value", Grain(g), state);
                }
                Assert.Equal($"{writesEach}", state.ETag);
            }));
            Assert.Equal(grains * writesEach, storage.Writes);
            Assert.True(storage.Commits < storage.Writes / 2,
                $"{storage.Writes} concurrent writes took {storage.Commits} commits: they did not share commits");
        }

        // A new storage (a restarted silo) reads what the first acknowledged.
        await using var restarted = Open(database);
        for (var g = 0; g < grains; g++)
        {
            var read = new GrainState<string>();
            await restarted.ReadStateAsync("value", Grain(g), read);
            Assert.True(read.RecordExists);
            Assert.Equal($"grain {g} write {writesEach}", read.State);
            Assert.Equal($"{writesEach}", read.ETag);
        }
    }

    [Fact]
    public async Task A_stale_etag_fails_only_its_own_write_and_the_rest_of_its_commit_lands()
    {
        await using var database = await MigratedDatabaseAsync();
        // A linger long enough that the three writes below are sure to share one transaction.
        await using var storage = Open(database, linger: TimeSpan.FromMilliseconds(200));
        var first = new GrainState<string> { State = "first v1" };
        var second = new GrainState<string> { State = "second v1" };
        await storage.WriteStateAsync("value", Grain(1), first);
        await storage.WriteStateAsync("value", Grain(2), second);
        var commitsBefore = storage.Commits;

        var stale = new GrainState<string> { State = "from a duplicate activation", ETag = null };
        first.State = "first v2";
        second.State = "second v2";
        var writes = new[]
        {
            storage.WriteStateAsync("value", Grain(1), first),
            storage.WriteStateAsync("value", Grain(1), stale),
            storage.WriteStateAsync("value", Grain(2), second),
        };

        await writes[0];
        await Assert.ThrowsAsync<InconsistentStateException>(() => writes[1]);
        await writes[2];
        Assert.Equal(commitsBefore + 1, storage.Commits);
        Assert.Equal(("first v2", "2"), await ReadAsync(storage, Grain(1)));
        Assert.Equal(("second v2", "2"), await ReadAsync(storage, Grain(2)));

        // A write naming an etag that has moved on fails too, and leaves the row as it was.
        var behind = new GrainState<string> { State = "behind", ETag = "1" };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("value", Grain(2), behind));
        Assert.Equal(("second v2", "2"), await ReadAsync(storage, Grain(2)));
    }

    [Fact]
    public async Task A_cleared_state_reads_as_absent_its_etag_goes_on_and_a_writer_from_before_the_clear_is_refused()
    {
        await using var database = await MigratedDatabaseAsync();
        await using var storage = Open(database);
        var state = new GrainState<string> { State = "kept" };
        await storage.WriteStateAsync("value", Grain(1), state);
        var fromBefore = new GrainState<string> { State = "late", ETag = state.ETag };

        await storage.ClearStateAsync("value", Grain(1), state);

        Assert.False(state.RecordExists);
        Assert.Equal("2", state.ETag);
        var read = new GrainState<string>();
        await storage.ReadStateAsync("value", Grain(1), read);
        Assert.False(read.RecordExists);
        Assert.Equal("2", read.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("value", Grain(1), fromBefore));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("value", Grain(1), fromBefore));

        state.State = "again";
        await storage.WriteStateAsync("value", Grain(1), state);
        Assert.Equal(("again", "3"), await ReadAsync(storage, Grain(1)));

        // Clearing a state nobody wrote is nothing to do; clearing one someone else wrote is stale.
        var never = new GrainState<string>();
        await storage.ClearStateAsync("value", Grain(2), never);
        Assert.Null(never.ETag);
        Assert.False(never.RecordExists);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("value", Grain(1), new GrainState<string>()));
        Assert.Equal(("again", "3"), await ReadAsync(storage, Grain(1)));
    }

    [Fact]
    public async Task A_commit_cut_off_by_the_server_fails_its_writes_and_the_writer_goes_on()
    {
        await using var database = await MigratedDatabaseAsync();
        await using var storage = Open(database);
        var state = new GrainState<string> { State = "v1" };
        await storage.WriteStateAsync("value", Grain(1), state);

        // The server ends the storage's pooled connection, as a PostgreSQL restart does (57P01 on its next command).
        await TerminateOtherSessionsAsync(database);
        state.State = "v2";
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => storage.WriteStateAsync("value", Grain(1), state));
        Assert.Equal("1", state.ETag);

        await storage.WriteStateAsync("value", Grain(1), state);
        Assert.Equal(("v2", "2"), await ReadAsync(storage, Grain(1)));
    }

    private static GroupCommitGrainStorage Open(TestDatabase database, TimeSpan linger = default) =>
        new(new GroupCommitOptions(database.ConnectionString, "huginn-test", linger), Serializer, NullLogger<GroupCommitGrainStorage>.Instance);

    private static GrainId Grain(int n) => GrainId.Create("test-grain", $"grain:{n}");

    private static async Task<(string? State, string? ETag)> ReadAsync(GroupCommitGrainStorage storage, GrainId grain)
    {
        var read = new GrainState<string>();
        await storage.ReadStateAsync("value", grain, read);
        return (read.State, read.ETag);
    }

    private static async Task<TestDatabase> MigratedDatabaseAsync()
    {
        var database = await TestDatabase.CreateAsync();
        // Unpooled, so that the only session left on the database is the storage's own (see TerminateOtherSessionsAsync).
        await new PostgresMigrator(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString).MigrateAsync();
        return database;
    }

    private static async Task TerminateOtherSessionsAsync(TestDatabase database)
    {
        // A connection of its own, outside the pool the storage uses.
        var own = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(own);
        await connection.OpenAsync();
        await using var terminate = new NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            connection);
        Assert.Equal(1L, await terminate.ExecuteScalarAsync());
    }
}
