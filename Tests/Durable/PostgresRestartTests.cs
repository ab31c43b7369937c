using System.Diagnostics;
using Huginn.Demo;
using Huginn.Tests.Api;
using Huginn.Tests.Pool;
using Xunit.Abstractions;

namespace Huginn.Tests.Durable;

/// <summary>
/// PostgreSQL itself restarts mid-job: every open connection is cut and the server is away for a few seconds.
/// This restarts the server the tests run on, so it runs alone, after the parallel tests (its own collection).
/// </summary>
[Trait("Category", "Postgres")]
[Collection(PostgresRestartCollection.Name)]
public sealed class PostgresRestartTests(ITestOutputHelper output)
{
    [RootFact]
    public async Task Restarting_PostgreSQL_mid_job_the_pool_recovers_without_operator_action()
    {
        await using var database = await TestDatabase.CreateAsync();
        var cluster = LocalCluster.Serving(database);
        var clusterId = $"pg-restart-{Guid.NewGuid():N}";
        var silo = FaultTests.SiloProcess.Start(database, clusterId, "silo0");
        FaultTests.ClientApi? api = null;
        await using var workers = new FaultTests.Workers();
        try
        {
            await Eventually.UntilAsync(() => FaultTests.ActiveSilosAsync(database, clusterId), n => n == 1, "the silo active", TimeSpan.FromSeconds(60));
            api = await FaultTests.ClientApi.StartAsync(database, clusterId, LocalPool.FreePort());
            var (client, credit) = await workers.StartAsync(api.Url, 3);

            var submitted = await client.SubmitAsync(EdgeSpecs.Training(rounds: 6, shards: 4));
            await Eventually.UntilAsync(() => client.JobAsync(submitted.JobId), j => j.Progress.ShardsDone >= 8, "a third of the job done", TimeSpan.FromSeconds(60));

            // Every open connection is cut and the server is away for the restart; nobody touches the pool.
            var doneAtRestart = workers.ShardsRun;
            var restartedAt = Stopwatch.StartNew();
            cluster.Restart();
            output.WriteLine($"PostgreSQL {cluster} restarted in {restartedAt.Elapsed.TotalSeconds:F1}s after {doneAtRestart} shards run");

            var job = await Eventually.UntilAsync(() => FaultTests.TryAsync(() => client.JobAsync(submitted.JobId)), j => j?.State is "completed" or "failed",
                "the job completing after the PostgreSQL restart", TimeSpan.FromSeconds(75));
            output.WriteLine($"job finished {restartedAt.Elapsed.TotalSeconds:F1}s after the restart began");
            Assert.True(job!.State == "completed", $"the job {job.State}: {job.FailureReason}\n{workers.Failures()}");
            Assert.Equal(24, job.Progress.ShardsDone);
            Assert.True(workers.ShardsRun > doneAtRestart, "the workers ran no shard after the restart");
            await FaultTests.AssertSettledAsync(client, credit, job, workers, api.Client);
            await Eventually.UntilAsync(() => FaultTests.ActiveSilosAsync(database, clusterId), n => n == 1, "the silo still active in the membership table");
        }
        catch
        {
            output.WriteLine($"--- {silo.Name}\n{silo.Tail()}");
            throw;
        }
        finally
        {
            await workers.StopAsync();
            if (api is not null) await api.DisposeAsync();
            silo.Kill();
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgresRestartCollection
{
    public const string Name = "postgres-restart";
}

/// <summary>A fact that restarts a local PostgreSQL cluster: it needs root (CI runs as root).</summary>
internal sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
            Skip = "restarting PostgreSQL needs root and pg_ctlcluster (the CI runs these tests as root); not root here";
    }
}

/// <summary>The Debian/Ubuntu PostgreSQL cluster (pg_lsclusters) that listens on the test database's port.</summary>
internal sealed class LocalCluster(string version, string name)
{
    public static LocalCluster Serving(TestDatabase database)
    {
        var port = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString).Port;
        foreach (var line in Run("pg_lsclusters", "--no-header").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length > 2 && columns[2] == port.ToString(System.Globalization.CultureInfo.InvariantCulture))
                return new LocalCluster(columns[0], columns[1]);
        }
        throw new InvalidOperationException($"no local PostgreSQL cluster listens on port {port}; this test restarts the server it runs on");
    }

    public void Restart() => Run("pg_ctlcluster", version, name, "restart");

    public override string ToString() => $"{version}/{name}";

    private static string Run(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })
            ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within 60 s");
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }
}
