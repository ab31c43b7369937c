using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Huginn.Silo.Storage;

/// <summary>One schema step: an embedded <c>Storage/Migrations/NNNN_name.sql</c>.</summary>
public sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// Brings a PostgreSQL database to the schema the Orleans ADO.NET providers expect (their tables and the
/// statements in <c>OrleansQuery</c>). Each migration runs once, in order, in its own transaction, and is
/// recorded in <c>huginn_schema_migrations</c>; an advisory lock makes silos that start together take turns,
/// so the second one finds everything applied and does nothing.
/// </summary>
public sealed partial class PostgresMigrator(string connectionString, ILogger<PostgresMigrator>? logger = null)
{
    /// <summary>Key of the session advisory lock that serializes migrations (any fixed number, unique to Huginn).</summary>
    public const long LockKey = 0x4875_6769_6E6E_0001; // "Huginn", 1

    private readonly ILogger _logger = logger ?? NullLogger<PostgresMigrator>.Instance;

    /// <summary>The migrations shipped in this assembly, ordered by version.</summary>
    public static IReadOnlyList<Migration> All { get; } = Load();

    /// <summary>Applies every migration the database lacks; returns those it applied (none when up to date).</summary>
    public async Task<IReadOnlyList<Migration>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({LockKey})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, null, """
                CREATE TABLE IF NOT EXISTS huginn_schema_migrations
                (
                    version    integer     NOT NULL PRIMARY KEY,
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, cancellationToken);
            var applied = await AppliedAsync(connection, cancellationToken);
            var done = new List<Migration>();
            foreach (var migration in All.Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken);
                await using (var record = new NpgsqlCommand(
                    "INSERT INTO huginn_schema_migrations (version, name) VALUES (@version, @name)", connection, transaction))
                {
                    record.Parameters.AddWithValue("version", migration.Version);
                    record.Parameters.AddWithValue("name", migration.Name);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
                LogApplied(migration.Version, migration.Name);
                done.Add(migration);
            }
            return done;
        }
        finally
        {
            // A closed connection would release the lock too; unlock explicitly because pooled connections stay open.
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({LockKey})", CancellationToken.None);
        }
    }

    private static async Task<HashSet<int>> AppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT version FROM huginn_schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var versions = new HashSet<int>();
        while (await reader.ReadAsync(cancellationToken)) versions.Add(reader.GetInt32(0));
        return versions;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<Migration> Load()
    {
        const string prefix = "Huginn.Silo.Storage.Migrations.";
        var assembly = typeof(PostgresMigrator).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var file = resource[prefix.Length..];
            var match = FileName().Match(file);
            if (!match.Success)
                throw new InvalidOperationException($"Migration '{file}' is not named NNNN_name.sql.");
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var text = new StreamReader(stream);
            migrations.Add(new Migration(int.Parse(match.Groups[1].Value), match.Groups[2].Value, text.ReadToEnd()));
        }
        var duplicate = migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException($"Two migrations have version {duplicate.Key}.");
        return [.. migrations.OrderBy(m => m.Version)];
    }

    [GeneratedRegex(@"^(\d{4})_([a-z0-9_]+)\.sql$")]
    private static partial Regex FileName();

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied PostgreSQL migration {Version} ({Name})")]
    private partial void LogApplied(int version, string name);
}
