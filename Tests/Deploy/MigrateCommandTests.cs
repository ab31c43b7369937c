using Huginn.Silo.Storage;
using Huginn.Tests.Durable;

namespace Huginn.Tests.Deploy;

/// <summary>The migrations Job's command (<c>Huginn.Silo migrate</c>, deploy/k8s/base/migrations-job.yaml), as a real process.</summary>
[Trait("Category", "Postgres")]
public sealed class MigrateCommandTests
{
    [Fact]
    public async Task Migrate_applies_the_schema_and_exits_and_a_second_run_changes_nothing()
    {
        await using var database = await TestDatabase.CreateAsync();

        var (first, firstOutput) = await RunMigrateAsync(database);
        var applied = await database.QueryAsync("SELECT version FROM huginn_schema_migrations ORDER BY version");
        var (second, secondOutput) = await RunMigrateAsync(database);

        Assert.True(first == 0, $"first run exited {first}: {firstOutput}");
        Assert.True(second == 0, $"second run exited {second}: {secondOutput}");
        Assert.Equal(PostgresMigrator.All.Select(m => m.Version.ToString()), applied);
        Assert.Equal(applied, await database.QueryAsync("SELECT version FROM huginn_schema_migrations ORDER BY version"));
        // Nothing but the schema: a migrate run never registers a silo.
        Assert.Empty(await database.QueryAsync("SELECT address FROM orleans_membership"));
    }

    private static Task<(int ExitCode, string Output)> RunMigrateAsync(TestDatabase database) =>
        // What the Job sets (migrations-job.yaml).
        SiloCommand.RunAsync(["migrate"], new()
        {
            ["Huginn__Storage"] = "postgres",
            ["ConnectionStrings__Huginn"] = database.ConnectionString,
        });
}
