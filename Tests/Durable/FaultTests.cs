using Huginn.Grains.Rules;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Huginn.Api.Apis;
using Huginn.Api.Hosting;
using Huginn.Demo;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Protocol;
using Huginn.Tests.Api;
using Huginn.Tests.Pool;
using Huginn.Worker.Agent;
using Huginn.Worker.Hardware;
using Huginn.Workloads;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Huginn.Tests.Durable;

/// <summary>
/// Faults of the durable mode with real processes: silos as separate <c>Huginn.Silo</c> processes on one PostgreSQL
/// database, the Api as an Orleans client of them, real TorchSharp workers over loopback WebSockets.
/// Each test ends with the job completed, the client charged exactly once and the ledger audit balanced.
/// </summary>
[Trait("Category", "Postgres")]
public sealed class FaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_the_silo_that_hosts_the_job_loses_nothing_and_the_job_completes_on_the_survivors()
    {
        await using var database = await TestDatabase.CreateAsync();
        var clusterId = $"kill-{Guid.NewGuid():N}";
        var silos = new List<SiloProcess>();
        ClientApi? api = null;
        await using var workers = new Workers();
        try
        {
            for (var i = 0; i < 3; i++) silos.Add(SiloProcess.Start(database, clusterId, $"silo{i}"));
            await Eventually.UntilAsync(() => ActiveSilosAsync(database, clusterId), n => n == 3, "three silos active", TimeSpan.FromSeconds(60));
            api = await ClientApi.StartAsync(database, clusterId, LocalPool.FreePort());
            var (client, credit) = await workers.StartAsync(api.Url, 3);

            var submitted = await client.SubmitAsync(EdgeSpecs.Training(rounds: 6, shards: 4));
            await Eventually.UntilAsync(() => client.JobAsync(submitted.JobId), j => j.Progress.ShardsDone >= 8, "a third of the job done", TimeSpan.FromSeconds(60));

            // SIGKILL the silo the job grain lives on: no graceful leave, the survivors must vote it dead.
            var management = api.Client.GetGrain<IManagementGrain>(0);
            var host = await management.GetActivationAddress(api.Client.GetGrain<IJobGrain>(submitted.JobId));
            var victim = silos.FirstOrDefault(s => host is not null && s.SiloPort == host.Endpoint.Port) ?? silos[0];
            var doneAtKill = workers.ShardsRun;
            var killedAt = Stopwatch.StartNew();
            victim.Kill();
            output.WriteLine($"killed {victim.Name} (job host: {host}) after {doneAtKill} shards run");
            await Eventually.UntilAsync(() => DeadSilosAsync(database, clusterId), n => n >= 1, "the killed silo declared dead", TimeSpan.FromSeconds(60));
            output.WriteLine($"declared dead after {killedAt.Elapsed.TotalSeconds:F1}s");

            var job = await Eventually.UntilAsync(() => TryAsync(() => client.JobAsync(submitted.JobId)), j => j?.State is "completed" or "failed",
                "the job completing after the kill", TimeSpan.FromSeconds(75));
            output.WriteLine($"job finished {killedAt.Elapsed.TotalSeconds:F1}s after the kill");
            Assert.True(job!.State == "completed", $"the job {job.State}: {job.FailureReason}\n{workers.Failures()}");
            Assert.Equal(24, job.Progress.ShardsDone);
            Assert.True(workers.ShardsRun > doneAtKill, "the workers ran no shard after the kill");
            await AssertSettledAsync(client, credit, job, workers, api.Client);
        }
        catch
        {
            foreach (var silo in silos) output.WriteLine($"--- {silo.Name}\n{silo.Tail()}");
            throw;
        }
        finally
        {
            await workers.StopAsync();
            if (api is not null) await api.DisposeAsync();
            foreach (var silo in silos) silo.Kill();
        }
    }

    [Fact]
    public async Task Restarting_the_Api_alone_under_connected_workers_they_reconnect_and_the_job_completes()
    {
        await using var database = await TestDatabase.CreateAsync();
        var clusterId = $"api-restart-{Guid.NewGuid():N}";
        var silo = SiloProcess.Start(database, clusterId, "silo0");
        ClientApi? api = null;
        await using var workers = new Workers();
        try
        {
            await Eventually.UntilAsync(() => ActiveSilosAsync(database, clusterId), n => n == 1, "the silo active", TimeSpan.FromSeconds(60));
            var port = LocalPool.FreePort();
            api = await ClientApi.StartAsync(database, clusterId, port);
            var (client, credit) = await workers.StartAsync(api.Url, 3);

            var submitted = await client.SubmitAsync(EdgeSpecs.Training(rounds: 6, shards: 4));
            await Eventually.UntilAsync(() => client.JobAsync(submitted.JobId), j => j.Progress.ShardsDone >= 8, "a third of the job done", TimeSpan.FromSeconds(60));

            // The Api goes away (sockets closed, Orleans client stopped); a new one comes up on the same port.
            var doneAtStop = workers.ShardsRun;
            await api.DisposeAsync();
            api = null;
            api = await ClientApi.StartAsync(database, clusterId, port);
            await Eventually.UntilAsync(() => TryAsync(async () => (await workers.Http.GetFromJsonAsync<PoolResponse>("v1/pool", Frame.Json))!), p => p?.DevicesOnline == 3,
                "the three workers back online", TimeSpan.FromSeconds(30));

            var job = await Eventually.UntilAsync(() => TryAsync(() => client.JobAsync(submitted.JobId)), j => j?.State is "completed" or "failed",
                "the job completing after the Api restart", TimeSpan.FromSeconds(60));
            Assert.True(job!.State == "completed", $"the job {job.State}: {job.FailureReason}\n{workers.Failures()}");
            Assert.Equal(24, job.Progress.ShardsDone);
            Assert.True(workers.ShardsRun > doneAtStop, "the workers ran no shard after the Api restart");
            await AssertSettledAsync(client, credit, job, workers, api.Client);
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

    [Fact]
    public async Task Killing_every_silo_and_the_Api_mid_job_then_starting_them_again_resumes_the_job_with_exact_balances()
    {
        await using var database = await TestDatabase.CreateAsync();
        var clusterId = $"cold-restart-{Guid.NewGuid():N}";
        var silo = SiloProcess.Start(database, clusterId, "silo0");
        ClientApi? api = null;
        await using var workers = new Workers();
        try
        {
            await Eventually.UntilAsync(() => ActiveSilosAsync(database, clusterId), n => n == 1, "the silo active", TimeSpan.FromSeconds(60));
            var port = LocalPool.FreePort();
            api = await ClientApi.StartAsync(database, clusterId, port);
            var (client, credit) = await workers.StartAsync(api.Url, 3);

            var submitted = await client.SubmitAsync(EdgeSpecs.Training(rounds: 6, shards: 4));
            await Eventually.UntilAsync(() => client.JobAsync(submitted.JobId), j => j.Progress.ShardsDone >= 8, "a third of the job done", TimeSpan.FromSeconds(60));

            // Every coordinator process goes at once: the silo is SIGKILLed, the Api stops; then both come back.
            var doneAtStop = workers.ShardsRun;
            silo.Kill();
            await api.DisposeAsync();
            api = null;
            silo = SiloProcess.Start(database, clusterId, "silo1");
            // The killed silo's row still says Active until the new one votes it dead: wait for the new row.
            await Eventually.UntilAsync(async () => (await ActiveSilosAsync(database, clusterId), await DeadSilosAsync(database, clusterId)),
                c => c.Item1 >= 2 || (c.Item1 >= 1 && c.Item2 >= 1), "the new silo active", TimeSpan.FromSeconds(60));
            api = await ClientApi.StartAsync(database, clusterId, port);

            var job = await Eventually.UntilAsync(() => TryAsync(() => client.JobAsync(submitted.JobId)), j => j?.State is "completed" or "failed",
                "the job completing after the cold restart", TimeSpan.FromSeconds(90));
            Assert.True(job!.State == "completed", $"the job {job.State}: {job.FailureReason}\n{workers.Failures()}");
            Assert.Equal(24, job.Progress.ShardsDone);
            Assert.True(workers.ShardsRun > doneAtStop, "the workers ran no shard after the restart");
            await AssertSettledAsync(client, credit, job, workers, api.Client);
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

    /// <summary>Client charged exactly once, contributors paid exactly what the job paid, the ledger balanced.</summary>
    internal static async Task AssertSettledAsync(PoolClient client, decimal credit, JobResponse job, Workers workers, IClusterClient grains)
    {
        var me = await Eventually.UntilAsync(() => client.MeAsync(), a => a.EscrowHu == 0, "the escrow settling");
        Assert.Equal(credit - job.SpentHu, me.BalanceHu);
        var earned = 0L;
        foreach (var owner in workers.Owners) earned += MicroHu.FromHu((await owner.MeAsync()).EarnedHu);
        var spent = MicroHu.FromHu(job.SpentHu);
        Assert.True(earned > 0, "no contributor earned anything");
        Assert.Equal(spent, earned + Pricing.FeeMicroHu(earned, new PricingOptions()));
        var audit = await grains.GetGrain<ILedgerGrain>(ILedgerGrain.Key).AuditAsync();
        Assert.True(audit.Balanced, $"minted {audit.MintedMicroHu}, held {audit.HeldMicroHu}");
    }

    internal static async Task<T?> TryAsync<T>(Func<Task<T>> probe) where T : class
    {
        try { return await probe(); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return null; }
    }

    internal static Task<int> ActiveSilosAsync(TestDatabase database, string clusterId) => SilosAsync(database, clusterId, status: 3);

    private static Task<int> DeadSilosAsync(TestDatabase database, string clusterId) => SilosAsync(database, clusterId, status: 6);

    /// <summary>Silos of the cluster in an Orleans SiloStatus; -1 when the table cannot be read yet.</summary>
    private static async Task<int> SilosAsync(TestDatabase database, string clusterId, int status)
    {
        try
        {
            return int.Parse((await database.QueryAsync(
                $"SELECT count(*) FROM orleans_membership WHERE deployment_id = '{clusterId}' AND status = {status}"))[0]);
        }
        // 42P01: the first silo has not migrated yet. 57P01: a pooled connection the server closed when it restarted.
        catch (Npgsql.PostgresException e) when (e.SqlState is "42P01" or "57P01") { return -1; }
    }

    /// <summary>A <c>Huginn.Silo</c> process, from the build output next to this test assembly's.</summary>
    internal sealed class SiloProcess
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _lines = new();

        private SiloProcess(string name, int siloPort, Process process) => (Name, SiloPort, _process) = (name, siloPort, process);

        public string Name { get; }

        public int SiloPort { get; }

        public static SiloProcess Start(TestDatabase database, string clusterId, string name)
        {
            var siloPort = LocalPool.FreePort();
            var start = new ProcessStartInfo("dotnet", [SiloDll()])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["Huginn__Storage"] = "postgres";
            start.Environment["ConnectionStrings__Huginn"] = database.ConnectionString;
            start.Environment["Huginn__ClusterId"] = clusterId;
            start.Environment["Huginn__SiloPort"] = siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
            start.Environment["Huginn__GatewayPort"] = LocalPool.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
            start.Environment["Huginn__AdvertisedIP"] = "127.0.0.1";
            // Short leases, so that shards in flight on a lost lease come back quickly.
            start.Environment["Huginn__Pool__LeaseGrace"] = "00:00:03";
            // A silo killed outright leaves its row Active: with these, a lone restarted silo finds its IAmAlive
            // stale within seconds (Orleans' default is minutes) and a dead peer is voted out sooner.
            start.Environment["Huginn__Membership__IAmAliveTablePublishTimeout"] = "00:00:03";
            start.Environment["Huginn__Membership__ProbeTimeout"] = "00:00:02";
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            start.Environment["DOTNET_ENVIRONMENT"] = "Production";
            var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
            var silo = new SiloProcess(name, siloPort, process);
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) silo.Keep(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) silo.Keep(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return silo;
        }

        private void Keep(string line)
        {
            _lines.Enqueue(line);
            while (_lines.Count > 200) _lines.TryDequeue(out _);
        }

        public string Tail() => string.Join("\n", _lines.TakeLast(40));

        /// <summary>SIGKILL on Linux: no graceful shutdown.</summary>
        public void Kill()
        {
            try
            {
                if (!_process.HasExited) _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
            catch (InvalidOperationException) { }
        }

        private static string SiloDll()
        {
            var here = Path.GetDirectoryName(typeof(SiloProcess).Assembly.Location)!; // Tests/bin/<Configuration>/net10.0
            var configuration = new DirectoryInfo(here).Parent!.Name;
            for (var dir = new DirectoryInfo(here); dir is not null; dir = dir.Parent)
            {
                var dll = Path.Combine(dir.FullName, "Silo", "bin", configuration, "net10.0", "Huginn.Silo.dll");
                if (File.Exists(dll)) return dll;
            }
            throw new FileNotFoundException($"Huginn.Silo.dll ({configuration}) not found above {here}; build Tests/Tests.csproj first.");
        }
    }

    /// <summary>The stand-alone Api as Api/Program.cs builds it, in this process: an Orleans client of the silos.</summary>
    internal sealed class ClientApi : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private ClientApi(WebApplication app, Uri url) => (_app, Url) = (app, url);

        public Uri Url { get; }

        public IClusterClient Client => _app.Services.GetRequiredService<IClusterClient>();

        public static async Task<ClientApi> StartAsync(TestDatabase database, string clusterId, int port)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Huginn:Storage"] = "postgres",
                ["ConnectionStrings:Huginn"] = database.ConnectionString,
                ["Huginn:ClusterId"] = clusterId,
                ["Huginn:Api:HeartbeatInterval"] = "00:00:01",
            });
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Logging.AddFilter("Orleans", LogLevel.Error);
            builder.AddHuginnClusterClient();
            builder.Services.AddHuginnApi(builder.Configuration);
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            var app = builder.Build();
            app.MapHuginnApi();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await app.StartAsync(timeout.Token);
            return new ClientApi(app, new Uri($"http://127.0.0.1:{port}/"));
        }

        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try { await _app.StopAsync(timeout.Token); }
            finally { await _app.DisposeAsync(); }
        }
    }

    /// <summary>Real TorchSharp workers in this process, each its own contributor; and the client that pays.</summary>
    internal sealed class Workers : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _running = [];
        private readonly ConcurrentQueue<string> _log = new();
        private int _shardsRun;

        public List<PoolClient> Owners { get; } = [];

        public HttpClient Http { get; private set; } = null!;

        public int ShardsRun => Volatile.Read(ref _shardsRun);

        public async Task<(PoolClient Client, decimal Credit)> StartAsync(Uri apiUrl, int count)
        {
            var hardware = HardwareProbe.Detect(threads: 1);
            var anonymous = new PoolClient(apiUrl);
            for (var i = 0; i < count; i++)
            {
                var name = $"w{i}";
                var account = await anonymous.CreateAccountAsync(name, "contributor");
                var owner = anonymous.As(account.ApiKey);
                Owners.Add(owner);
                var device = await owner.RegisterDeviceAsync(name, TorchShardExecutor.Capabilities(hardware));
                var agent = new WorkerAgent(new WorkerOptions { Api = apiUrl, DeviceToken = device.DeviceToken, MaxReconnectDelay = TimeSpan.FromSeconds(1) },
                    TorchShardExecutor.Capabilities(hardware), new CountingExecutor(new TorchShardExecutor(hardware), () => Interlocked.Increment(ref _shardsRun)),
                    line => _log.Enqueue($"[{name}] {line}"));
                _running.Add(Task.Run(() => agent.RunAsync(_stop.Token)));
            }
            var clientAccount = await anonymous.CreateAccountAsync("client", "client");
            var client = anonymous.As(clientAccount.ApiKey);
            const decimal credit = 1m;
            await client.BuyAsync(credit);
            Http = new HttpClient { BaseAddress = apiUrl };
            Http.DefaultRequestHeaders.Authorization = new("Bearer", clientAccount.ApiKey);
            await Eventually.UntilAsync(() => Http.GetFromJsonAsync<PoolResponse>("v1/pool", Frame.Json), p => p!.DevicesOnline == count,
                $"{count} workers online", TimeSpan.FromSeconds(30));
            return (client, credit);
        }

        public string Failures() => string.Join("\n", _log.Where(l => l.Contains("failed") || l.Contains("lost") || l.Contains("refused")).Take(20));

        public async Task StopAsync()
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            await Task.WhenAll(_running).WaitAsync(TimeSpan.FromSeconds(20));
        }

        public async ValueTask DisposeAsync()
        {
            try { await StopAsync(); }
            finally { Http?.Dispose(); }
        }
    }
}

/// <summary>Counts the shards a worker ran, to show it kept working through a fault.</summary>
internal sealed class CountingExecutor(IShardExecutor inner, Action ran) : IShardExecutor
{
    public ShardOutput Execute(JobSpec spec, ShardPlan shard, ReadOnlySpan<float> weights, DataSlice data)
    {
        var result = inner.Execute(spec, shard, weights, data);
        ran();
        return result;
    }
}
