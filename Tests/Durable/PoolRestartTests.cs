using System.Net.Http.Json;
using Huginn.Api.Apis;
using Huginn.Demo;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Protocol;
using Huginn.Silo.Hosting;
using Huginn.Tests.Api;
using Huginn.Tests.Pool;
using Huginn.Worker.Agent;
using Huginn.Worker.Hardware;
using Microsoft.Extensions.Configuration;

namespace Huginn.Tests.Durable;

/// <summary>Losing every coordinator process loses no job and no HU: state is in PostgreSQL.</summary>
[Trait("Category", "Postgres")]
public sealed class PoolRestartTests
{
    [Fact]
    public async Task Stopping_the_silo_and_the_Api_mid_job_loses_nothing_and_the_job_completes_after_restart()
    {
        await using var database = await TestDatabase.CreateAsync();
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [HuginnSiloExtensions.StorageKey] = "postgres",
            ["ConnectionStrings:Huginn"] = database.ConnectionString,
            [HuginnSiloExtensions.ClusterIdKey] = $"restart-{Guid.NewGuid():N}",
            [HuginnSiloExtensions.SiloPortKey] = LocalPool.FreePort().ToString(),
            [HuginnSiloExtensions.GatewayPortKey] = LocalPool.FreePort().ToString(),
            // Short leases, so that shards in flight when the pool went down come back quickly.
            ["Huginn:Pool:LeaseGrace"] = "00:00:03",
            ["Huginn:Api:HeartbeatInterval"] = "00:00:01",
        }).Build();
        var apiPort = LocalPool.FreePort();
        var pool = await LocalPool.StartAsync(settings, apiPort);
        var hardware = HardwareProbe.Detect(threads: 1);

        using var anonymous = new PoolClient(pool.ApiUrl);
        var workers = new List<Task>();
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var stopWorkers = new CancellationTokenSource();
        foreach (var name in new[] { "a", "b", "c" })
        {
            var account = await anonymous.CreateAccountAsync(name, "contributor");
            var device = await anonymous.As(account.ApiKey).RegisterDeviceAsync(name, TorchShardExecutor.Capabilities(hardware));
            var agent = new WorkerAgent(new WorkerOptions { Api = pool.ApiUrl, DeviceToken = device.DeviceToken, MaxReconnectDelay = TimeSpan.FromSeconds(1) },
                TorchShardExecutor.Capabilities(hardware), new TorchShardExecutor(hardware), line => log.Enqueue($"[{name}] {line}"));
            workers.Add(Task.Run(() => agent.RunAsync(stopWorkers.Token)));
        }
        var clientAccount = await anonymous.CreateAccountAsync("client", "client");
        var client = anonymous.As(clientAccount.ApiKey);
        await client.BuyAsync(1);
        using var http = new HttpClient { BaseAddress = pool.ApiUrl };
        http.DefaultRequestHeaders.Authorization = new("Bearer", clientAccount.ApiKey);
        await Eventually.UntilAsync(() => http.GetFromJsonAsync<PoolResponse>("v1/pool", Frame.Json), p => p!.DevicesOnline == 3, "three workers online");

        var submitted = await client.SubmitAsync(EdgeSpecs.Training(rounds: 6, shards: 4));
        await Eventually.UntilAsync(() => client.JobAsync(submitted.JobId), j => j.Progress.ShardsDone >= 6, "a third of the job done");

        // Every coordinator process goes away at once; the workers lose their connections and keep retrying.
        await pool.DisposeAsync();
        pool = await LocalPool.StartAsync(settings, apiPort);
        try
        {
            var job = await Eventually.UntilAsync(() => client.JobAsync(submitted.JobId), j => j.State is "completed" or "failed",
                "the job completing after the restart", TimeSpan.FromSeconds(120));
            Assert.True(job.State == "completed", $"the job {job.State}: {job.FailureReason}\n{string.Join("\n", log.Where(l => l.Contains("failed") || l.Contains("lost") || l.Contains("refused")).Take(20))}");
            Assert.Equal(24, job.Progress.ShardsDone);
            Assert.True(job.Metrics.VerifiedLosses[^1] < job.Metrics.VerifiedLosses[0]);
            var me = await Eventually.UntilAsync(() => client.MeAsync(), a => a.EscrowHu == 0, "the escrow settling");
            Assert.Equal(1m - job.SpentHu, me.BalanceHu);
            var audit = await pool.Grains.GetGrain<ILedgerGrain>(ILedgerGrain.Key).AuditAsync();
            Assert.True(audit.Balanced, $"minted {audit.MintedMicroHu}, held {audit.HeldMicroHu}");
        }
        finally
        {
            stopWorkers.Cancel();
            await Task.WhenAll(workers);
            await pool.DisposeAsync();
        }
    }
}
