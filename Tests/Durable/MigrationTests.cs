using Huginn.Silo.Storage;

namespace Huginn.Tests.Durable;

[Trait("Category", "Postgres")]
public sealed class MigrationTests
{
    [Fact]
    public async Task Migrations_apply_to_an_empty_database_and_a_second_run_applies_nothing()
    {
        await using var database = await TestDatabase.CreateAsync();
        var migrator = new PostgresMigrator(database.ConnectionString);

        var first = await migrator.MigrateAsync();
        var second = await migrator.MigrateAsync();

        Assert.Equal(PostgresMigrator.All.Select(m => m.Version), first.Select(m => m.Version));
        Assert.Empty(second);
        Assert.Equal(
            PostgresMigrator.All.Select(m => $"{m.Version}:{m.Name}"),
            await database.QueryAsync("SELECT version || ':' || name FROM huginn_schema_migrations ORDER BY version"));
    }

    [Fact]
    public async Task Migrations_provide_every_statement_the_Orleans_providers_ask_for()
    {
        await using var database = await TestDatabase.CreateAsync();
        await new PostgresMigrator(database.ConnectionString).MigrateAsync();

        // The keys Orleans 10.4.2's ADO.NET providers require (clustering, persistence, reminders, streaming).
        string[] expected =
        [
            "CleanupDefunctSiloEntriesKey", "ClearStorageKey", "ConfirmStreamMessagesKey", "DeleteMembershipTableEntriesKey",
            "DeleteReminderRowKey", "DeleteReminderRowsKey", "DeleteStorageKey", "EvictStreamDeadLettersKey",
            "EvictStreamMessagesKey", "FailStreamMessageKey", "GatewaysQueryKey", "GetStreamMessagesKey",
            "InsertMembershipKey", "InsertMembershipVersionKey", "MembershipReadAllKey", "MembershipReadRowKey",
            "QueueStreamMessageKey", "ReadFromStorageKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
            "ReadReminderRowKey", "ReadReminderRowsKey", "UpdateIAmAlivetimeKey", "UpdateMembershipKey",
            "UpsertReminderRowKey", "WriteToStorageKey",
        ];
        Assert.Equal(expected, await database.QueryAsync("SELECT QueryKey FROM OrleansQuery ORDER BY QueryKey COLLATE \"C\""));
    }

    [Fact]
    public async Task Racing_migrators_apply_each_migration_once()
    {
        await using var database = await TestDatabase.CreateAsync();

        var racers = await Task.WhenAll(Enumerable.Range(0, 4)
            .Select(_ => Task.Run(() => new PostgresMigrator(database.ConnectionString).MigrateAsync())));

        Assert.Equal(
            PostgresMigrator.All.Select(m => m.Version).Order(),
            racers.SelectMany(applied => applied).Select(m => m.Version).Order());
        Assert.Equal(
            [PostgresMigrator.All.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            await database.QueryAsync("SELECT count(*) FROM huginn_schema_migrations"));
    }
}
