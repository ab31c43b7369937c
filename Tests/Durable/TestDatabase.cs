using Npgsql;

namespace Huginn.Tests.Durable;

/// <summary>
/// A fresh PostgreSQL database for one test, dropped at the end. The server comes from
/// <c>HUGINN_TEST_POSTGRES</c> (a connection string to any database on it), else the one scripts/postgres.sh sets up.
/// An unreachable server fails the test: CI starts PostgreSQL, so a missing one is a broken build, not a skip.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string ServerVariable = "HUGINN_TEST_POSTGRES";
    private const string DefaultServer = "Host=127.0.0.1;Port=5432;Username=huginn;Password=huginn;Database=postgres";

    private readonly string _server;

    private TestDatabase(string server, string name, string connectionString)
    {
        _server = server;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync()
    {
        var server = Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } configured ? configured : DefaultServer;
        var name = $"huginn_test_{Guid.NewGuid():N}";
        try
        {
            await using var connection = new NpgsqlConnection(server);
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            var shown = new NpgsqlConnectionStringBuilder(server) { Password = null };
            throw new InvalidOperationException(
                $"PostgreSQL is not reachable at '{shown}' ({e.Message}). The Postgres tests need a server: run " +
                $"scripts/postgres.sh (as root), or point {ServerVariable} at one whose user may CREATE DATABASE.", e);
        }
        return new TestDatabase(server, name, new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString);
    }

    /// <summary>Runs a query in this database and returns its first column as text.</summary>
    public async Task<List<string>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(Convert.ToString(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture)!);
        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
