using Huginn.Grains;
using Huginn.Silo.Hosting;
using Huginn.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;

namespace Huginn.Benchmarks;

/// <summary>
/// Row 2: row 1's shard lifecycle with grain state, reminders and the device streams in PostgreSQL
/// (Huginn:Storage=postgres), against the same job on in-memory storage in the same run; grain state through the
/// group-commit storage and through Orleans' ADO.NET storage, compared in the same run.
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
        try
        {
            await ExecuteAsync(server, "SELECT 1");
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // A full run by hand on a machine without PostgreSQL still measures the other rows; CI starts the server.
            if (!IsSmokeRequired()) return [["2: PostgreSQL storage", $"not run: {e.Message}", "start it with scripts/postgres.sh (as root)", ""]];
            throw new InvalidOperationException($"row 2 needs PostgreSQL ({e.Message}); run scripts/postgres.sh or set {ServerVariable}", e);
        }
        var memory = await MeasureAsync(sizes, server: null, jobs: 1);
        // Grain state through Orleans' ADO.NET storage (one transaction per write) and through the group-commit
        // storage (the default), in this run: only their ratio means something on a shared machine. Each measurement
        // has a fresh database: one reused kept the earlier runs' dead stream rows, and whatever ran last was slowest.
        var ado = await MeasureAsync(sizes, server, jobs: 1, groupCommit: false);
        var group = await MeasureAsync(sizes, server, jobs: 1);
        var adoConcurrent = await MeasureAsync(sizes, server, sizes.ConcurrentJobs, groupCommit: false);
        var groupConcurrent = await MeasureAsync(sizes, server, sizes.ConcurrentJobs);
        // The operator's trade (docs/OPERATIONS.md): commits return before their WAL is flushed; a PostgreSQL
        // crash can lose the last moments of commits, never tear one. Set in the connection string alone.
        var asyncCommit = new NpgsqlConnectionStringBuilder(server) { Options = "-c synchronous_commit=off" }.ConnectionString;
        var adoAsyncCommit = await MeasureAsync(sizes, asyncCommit, sizes.ConcurrentJobs, groupCommit: false);
        var concurrent = $"{sizes.ConcurrentJobs} jobs × {sizes.Shards} shards at once";
        return
        [
            Row($"2: {sizes.Shards} shards, trusted devices, PostgreSQL, group commit", group, memory, ado),
            Row($"2: {sizes.Shards} shards, trusted devices, PostgreSQL, ADO.NET storage", ado, memory),
            Row($"2: {concurrent}, PostgreSQL, group commit", groupConcurrent, memory, adoConcurrent),
            Row($"2: {concurrent}, PostgreSQL, ADO.NET storage", adoConcurrent, memory),
            Row($"2: {concurrent}, PostgreSQL, ADO.NET storage, synchronous_commit=off", adoAsyncCommit, memory),
            ["2: group commit: state writes per commit (per shard)",
                $"1 job: {group.WritesPerCommit:F1} ({group.WritesPerShard:F1}); {concurrent}: {groupConcurrent.WritesPerCommit:F1} ({groupConcurrent.WritesPerShard:F1})",
                $"commits/s: {group.CommitsPerSecond:F0}; {groupConcurrent.CommitsPerSecond:F0}", ""],
            ["2: calls per shard, PostgreSQL, group commit", string.Join(", ", group.Run.Top.Take(12).Select(t => $"{t.Key} {t.Value:F2}")), "", ""],
            ["2: mean ms inside the grain, PostgreSQL, group commit", string.Join(", ", group.Run.SlowestMeanMs.Select(t => $"{t.Key} {t.Value:F1}")),
                "ADO.NET: " + string.Join(", ", ado.Run.SlowestMeanMs.Select(t => $"{t.Key} {t.Value:F1}")), ""],
        ];
    }

    private static string[] Row(string name, Measured run, Measured memory, Measured? ado = null) =>
    [
        name,
        $"{run.Run.ShardsPerSecond:F0} shards/s; {run.Run.CallsPerShard:F1} calls/shard; CPU {run.Run.CpuPercent:F0} % of {Environment.ProcessorCount} cores",
        $"row 1's job on memory storage in this run: {memory.Run.ShardsPerSecond:F0} shards/s (PostgreSQL = {run.Run.ShardsPerSecond / memory.Run.ShardsPerSecond:P0} of it)"
            + (ado is null ? "" : $"; {run.Run.ShardsPerSecond / ado.Run.ShardsPerSecond:F1}× the ADO.NET storage"),
        $"target ≥ 1,500 shards/s: {(run.Run.ShardsPerSecond >= 1500 ? "met" : "missed")}",
    ];

    /// <summary>A measured job, with the group-commit storage's writes and commits during it (zero on the other storages).</summary>
    private sealed record Measured(Row1Lifecycle.JobRun Run, long Writes, long Commits, double Seconds)
    {
        public double WritesPerCommit => Commits == 0 ? 0 : Writes / (double)Commits;
        public double WritesPerShard => Writes / (double)Run.Shards;
        public double CommitsPerSecond => Commits / Seconds;
    }

    /// <summary>One cluster on a fresh database of <paramref name="server"/> (memory storage when null).</summary>
    private static async Task<Measured> MeasureAsync(Sizes sizes, string? server, int jobs, bool groupCommit = true)
    {
        if (server is null) return await MeasureOnAsync(sizes, postgres: null, jobs, groupCommit);
        var database = $"huginn_bench_{Guid.NewGuid():N}";
        await ExecuteAsync(server, $"CREATE DATABASE {database}");
        try
        {
            return await MeasureOnAsync(sizes, new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString, jobs, groupCommit);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(server, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    /// <summary>One cluster: warm-up job, then the measured job(s) on devices trusted to the 5 % audit floor.</summary>
    private static async Task<Measured> MeasureOnAsync(Sizes sizes, string? postgres, int jobs, bool groupCommit)
    {
        var settings = new Dictionary<string, string?> { [HuginnSiloExtensions.GroupCommitKey] = groupCommit ? "true" : "false" };
        await using var cluster = await BenchCluster.StartAsync(_ => { }, postgres, siloSettings: settings);
        var rowSizes = new Row1Lifecycle.Sizes(sizes.Devices, sizes.Slots, [sizes.Shards], jobs, TimeSpan.Zero, 1);
        var clientId = await cluster.Pool.CreateClientAsync(hu: 1_000_000);
        var devices = await Row1Lifecycle.AddDevicesAsync(cluster, rowSizes);
        foreach (var device in devices) await BenchCluster.TrustAsync(device, 60);
        await Row1Lifecycle.RunJobAsync(cluster, clientId, Math.Min(40, sizes.Shards), seed: 1);
        var storage = cluster.SiloServices.GetKeyedService<IGrainStorage>(StorageNames.State) as GroupCommitGrainStorage;
        var (writes, commits) = (storage?.Writes ?? 0, storage?.Commits ?? 0);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var run = await Row1Lifecycle.RunJobAsync(cluster, clientId, sizes.Shards, seed: 2, jobs);
        var measured = new Measured(run, (storage?.Writes ?? 0) - writes, (storage?.Commits ?? 0) - commits, clock.Elapsed.TotalSeconds);
        await Row1Lifecycle.DisconnectAsync(devices);
        return measured;
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
