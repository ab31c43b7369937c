using Npgsql;

namespace Huginn.Benchmarks;

/// <summary>
/// Row 2: row 1's shard lifecycle with grain state, reminders and the device streams in PostgreSQL
/// (Huginn:Storage=postgres), against the same job on in-memory storage in the same run.
/// </summary>
public static class Row2Postgres
{
    public sealed record Sizes(int Devices, int Slots, int Shards, int ConcurrentJobs);

    public static Sizes Full { get; } = new(16, 4, 300, 4);
    public static Sizes Smoke { get; } = new(4, 2, 30, 2);

    /// <summary>A connection string to any database on the server; scripts/postgres.sh sets up this one.</summary>
    public const string ServerVariable = "HUGINN_BENCH_POSTGRES";
    private const string DefaultServer = "Host=127.0.0.1;Port=5432;Username=huginn;Password=huginn;Database=postgres";

    public static async Task<List<string[]>> RunAsync(Sizes sizes)
    {
        var server = Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } configured ? configured : DefaultServer;
        var database = $"huginn_bench_{Guid.NewGuid():N}";
        try
        {
            await ExecuteAsync(server, $"CREATE DATABASE {database}");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // A full run by hand on a machine without PostgreSQL still measures the other rows; CI starts the server.
            if (!IsSmokeRequired()) return [["2: PostgreSQL storage", $"not run: {e.Message}", "start it with scripts/postgres.sh (as root)", ""]];
            throw new InvalidOperationException($"row 2 needs PostgreSQL ({e.Message}); run scripts/postgres.sh or set {ServerVariable}", e);
        }
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
            var memory = await MeasureAsync(sizes, postgres: null, jobs: 1);
            var postgres = await MeasureAsync(sizes, connectionString, jobs: 1);
            var postgresConcurrent = await MeasureAsync(sizes, connectionString, sizes.ConcurrentJobs);
            // The operator's trade (docs/OPERATIONS.md): commits return before their WAL is flushed; a PostgreSQL
            // crash can lose the last moments of commits, never tear one. Set in the connection string alone.
            var asyncCommit = new NpgsqlConnectionStringBuilder(connectionString) { Options = "-c synchronous_commit=off" }.ConnectionString;
            var postgresAsyncCommit = await MeasureAsync(sizes, asyncCommit, sizes.ConcurrentJobs);
            return
            [
                Row($"2: {sizes.Shards} shards, trusted devices, PostgreSQL", postgres, memory),
                Row($"2: {sizes.ConcurrentJobs} jobs × {sizes.Shards} shards at once, PostgreSQL", postgresConcurrent, memory),
                Row($"2: {sizes.ConcurrentJobs} jobs × {sizes.Shards} shards at once, PostgreSQL, synchronous_commit=off", postgresAsyncCommit, memory),
                ["2: calls per shard, PostgreSQL", string.Join(", ", postgres.Top.Take(12).Select(t => $"{t.Key} {t.Value:F2}")), "", ""],
                ["2: mean ms inside the grain, PostgreSQL", string.Join(", ", postgres.SlowestMeanMs.Select(t => $"{t.Key} {t.Value:F1}")),
                    "memory: " + string.Join(", ", memory.SlowestMeanMs.Select(t => $"{t.Key} {t.Value:F1}")), ""],
            ];
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(server, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    private static string[] Row(string name, Row1Lifecycle.JobRun run, Row1Lifecycle.JobRun memory) =>
    [
        name,
        $"{run.ShardsPerSecond:F0} shards/s; {run.CallsPerShard:F1} calls/shard; CPU {run.CpuPercent:F0} % of {Environment.ProcessorCount} cores",
        $"row 1's job on memory storage in this run: {memory.ShardsPerSecond:F0} shards/s (PostgreSQL = {run.ShardsPerSecond / memory.ShardsPerSecond:P0} of it)",
        $"target ≥ 1,500 shards/s: {(run.ShardsPerSecond >= 1500 ? "met" : "missed")}",
    ];

    /// <summary>One cluster: warm-up job, then the measured job(s) on devices trusted to the 5 % audit floor.</summary>
    private static async Task<Row1Lifecycle.JobRun> MeasureAsync(Sizes sizes, string? postgres, int jobs)
    {
        await using var cluster = await BenchCluster.StartAsync(_ => { }, postgres);
        var rowSizes = new Row1Lifecycle.Sizes(sizes.Devices, sizes.Slots, [sizes.Shards], jobs, TimeSpan.Zero, 1);
        var clientId = await cluster.Pool.CreateClientAsync(hu: 1_000_000);
        var devices = await Row1Lifecycle.AddDevicesAsync(cluster, rowSizes);
        foreach (var device in devices) await BenchCluster.TrustAsync(device, 60);
        await Row1Lifecycle.RunJobAsync(cluster, clientId, Math.Min(40, sizes.Shards), seed: 1);
        var run = await Row1Lifecycle.RunJobAsync(cluster, clientId, sizes.Shards, seed: 2, jobs);
        await Row1Lifecycle.DisconnectAsync(devices);
        return run;
    }

    private static bool IsSmokeRequired() => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
