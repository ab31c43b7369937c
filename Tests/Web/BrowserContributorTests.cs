using System.Diagnostics;
using Huginn.Demo;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Tests.Api;
using Huginn.Tests.Deploy;
using Huginn.Tests.Pool;
using Huginn.Worker.Agent;
using Huginn.Worker.Hardware;
using Microsoft.Extensions.Configuration;
using Xunit.Abstractions;

namespace Huginn.Tests.Web;

/// <summary>
/// The browser contributor end to end, in a real headless Chromium: a local pool (Api + silo) serving /contribute,
/// browser pages that sign in with a contributor key and run shards in their Web Worker with TF.js (WASM backend), and
/// one TorchSharp worker. Screenshots go to artifacts/screenshots/ (HUGINN_SCREENSHOTS overrides the folder).
/// </summary>
[Trait("Category", "Browser")]
public sealed class BrowserContributorTests(ITestOutputHelper output)
{
    private static string Screenshots =>
        Environment.GetEnvironmentVariable("HUGINN_SCREENSHOTS") is { Length: > 0 } folder ? folder : Path.Combine(RepositoryPaths.Root, "artifacts", "screenshots");

    private static string Bundle => Path.Combine(RepositoryPaths.Root, "web", "dist");

    [Fact]
    public async Task Browser_pages_earn_for_verified_shards_a_cheating_page_is_banned_and_a_closed_page_gives_its_lease_back()
    {
        Assert.True(File.Exists(Path.Combine(Bundle, "index.html")), $"no bundle in {Bundle}: run 'npm ci && npm run build' in web/ (scripts/test.sh does)");
        Assert.True(HeadlessChromium.ExecutablePath is not null, "no Chromium: run scripts/setup.sh (apt-get install chromium)");
        var clock = Stopwatch.StartNew();
        await using var pool = await LocalPool.StartAsync(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Api:WebRoot"] = Bundle,
            ["Huginn:Api:TestFaults"] = "true",
        }).Build());
        using var anonymous = new PoolClient(pool.ApiUrl);
        await using var chromium = await HeadlessChromium.StartAsync();
        using var stopTorch = new CancellationTokenSource();
        Task? torchRun = null;
        try
        {
            // One TorchSharp worker, as any contributor's desktop.
            var torchOwner = anonymous.As((await anonymous.CreateAccountAsync("desktop", "contributor")).ApiKey);
            var hardware = HardwareProbe.Detect(threads: 1);
            var torchDevice = await torchOwner.RegisterDeviceAsync("desktop", TorchShardExecutor.Capabilities(hardware));
            var agent = new WorkerAgent(new WorkerOptions { Api = pool.ApiUrl, DeviceToken = torchDevice.DeviceToken, ShutdownGrace = TimeSpan.Zero },
                TorchShardExecutor.Capabilities(hardware), new TorchShardExecutor(hardware), line => output.WriteLine($"[torch] {line}"));
            torchRun = Task.Run(() => agent.RunAsync(stopTorch.Token));

            var (honest, honestOwner, honestId) = await SignedInPageAsync(chromium, pool, anonymous, "honest", "");
            var (cheater, cheaterOwner, cheaterId) = await SignedInPageAsync(chromium, pool, anonymous, "cheater", "&testFault=wrong");
            await honest.ScreenshotAsync(Path.Combine(Screenshots, "1-honest-online.png"));
            output.WriteLine($"pages online after {clock.Elapsed.TotalSeconds:F1}s");

            using var client = anonymous.As((await anonymous.CreateAccountAsync("client", "client")).ApiKey);
            await client.BuyAsync(1);
            var training = await client.SubmitAsync(EdgeSpecs.Training(rounds: 4, shards: 6), maxHu: 0.01m);
            var job = await Eventually.UntilAsync(() => client.JobAsync(training.JobId), j => j.State is "completed" or "failed" or "cancelled",
                $"job {training.JobId} finishing", TimeSpan.FromSeconds(90));
            output.WriteLine($"training job {job.State} after {clock.Elapsed.TotalSeconds:F1}s: losses {string.Join(", ", job.Metrics.Loss)}");
            Assert.Equal("completed", job.State);
            Assert.True(job.Metrics.VerifiedLosses[^1] < job.Metrics.VerifiedLosses[0], $"loss did not fall: {string.Join(", ", job.Metrics.Loss)}");

            // The honest page's shards were audited (against the TorchSharp worker or the other page) and are paid.
            var honestDevice = await Eventually.UntilAsync(() => honestOwner.DeviceAsync(honestId), d => d.Verified > 0, "the honest page's shards verified");
            Assert.False(honestDevice.Banned);
            Assert.True(honestDevice.EarnedHu + honestDevice.PendingHu > 0, $"the honest page earned nothing: {honestDevice}");
            Assert.Equal("browser", honestDevice.Capabilities.Kind);
            Assert.Contains("js", honestDevice.Capabilities.Runtimes);
            Assert.True((await torchOwner.DeviceAsync(torchDevice.DeviceId)).Verified > 0, "the TorchSharp worker verified nothing");
            // The page shows it (it polls GET /v1/devices/me every 2 s).
            await Eventually.UntilAsync(async () => int.TryParse(await honest.TextAsync("verified"), out var shown) ? shown : 0, shown => shown > 0,
                "the honest page showing verified shards");
            await honest.ScreenshotAsync(Path.Combine(Screenshots, "2-honest-paid.png"));

            // The cheating page: caught, slashed (nothing earned, nothing pending), banned, and told so on its page.
            Assert.Contains(cheaterId, job.DevicesCaught);
            var cheaterDevice = await cheaterOwner.DeviceAsync(cheaterId);
            Assert.True(cheaterDevice.Banned);
            Assert.Equal(0, cheaterDevice.Verified + cheaterDevice.Unaudited);
            Assert.Equal(0m, (await cheaterOwner.MeAsync()).EarnedHu);
            await Eventually.UntilAsync(() => cheater.TextAsync("idle"), text => text.StartsWith("Banned", StringComparison.Ordinal), "the cheating page saying it is banned");
            await cheater.ScreenshotAsync(Path.Combine(Screenshots, "3-cheater-banned.png"));

            // A tab closed mid-shard: the cheater's tab goes, a new page takes a lease and holds it, and is closed. The
            // honest page stays, so that the TorchSharp worker's shards still have another owner to audit them.
            await cheater.CloseAsync();
            var (closing, closingOwner, closingId) = await SignedInPageAsync(chromium, pool, anonymous, "closing", "&testFault=stall");
            var second = await client.SubmitAsync(EdgeSpecs.Training(rounds: 1, shards: 4, seed: 12), maxHu: 0.01m);
            await Eventually.UntilAsync(() => closingOwner.DeviceAsync(closingId), d => d.OpenLeases > 0, "the closing page holding a lease", TimeSpan.FromSeconds(30));
            await closing.ScreenshotAsync(Path.Combine(Screenshots, "4-closing-mid-shard.png"));
            var closedAt = Stopwatch.StartNew();
            await closing.CloseAsync();
            // The socket closing hands the lease back at once: well before its lease would expire.
            var closed = await Eventually.UntilAsync(() => closingOwner.DeviceAsync(closingId), d => d.OpenLeases == 0 && d.Status != "online",
                "the closed page's lease going back", TimeSpan.FromSeconds(10));
            output.WriteLine($"lease back {closedAt.Elapsed.TotalSeconds:F1}s after the tab closed; expired {closed.Expired}");
            var secondJob = await Eventually.UntilAsync(() => client.JobAsync(second.JobId), j => j.State is "completed" or "failed" or "cancelled",
                $"job {second.JobId} finishing", TimeSpan.FromSeconds(60));
            Assert.Equal("completed", secondJob.State);
            Assert.Equal(4, secondJob.Progress.ShardsDone);
            await honest.ScreenshotAsync(Path.Combine(Screenshots, "5-honest-after-second-job.png"));
            await honest.CloseAsync();

            var audit = await pool.Grains.GetGrain<ILedgerGrain>(ILedgerGrain.Key).AuditAsync();
            Assert.True(audit.Balanced, $"ledger out of balance: minted {audit.MintedMicroHu}, held {audit.HeldMicroHu}");
            output.WriteLine($"done in {clock.Elapsed.TotalSeconds:F1}s");
        }
        catch
        {
            foreach (var line in chromium.Console) output.WriteLine($"[chromium] {line}");
            throw;
        }
        finally
        {
            stopTorch.Cancel();
            if (torchRun is not null) await torchRun;
        }
    }

    /// <summary>Opens /contribute in a fresh browser context and signs in with a new contributor's key, as a person would.</summary>
    private async Task<(BrowserPage Page, PoolClient Owner, string DeviceId)> SignedInPageAsync(
        HeadlessChromium chromium, LocalPool pool, PoolClient anonymous, string name, string query)
    {
        var account = await anonymous.CreateAccountAsync(name, "contributor");
        var page = await chromium.OpenAsync(new Uri(pool.ApiUrl, $"contribute/?backend=wasm{query}").ToString());
        await Eventually.UntilAsync(() => page.EvaluateAsync("`${document.readyState} ${location.href} ${document.title} ${document.body?.innerText?.slice(0, 200)} ${document.body?.dataset.ready === 'true'}`"),
            ready => ready?.GetValue<string>() is { } state && state.StartsWith("complete") && state.EndsWith("true"), $"{name}: the page loading");
        await page.EvaluateAsync($$"""
            document.getElementById('key').value = '{{account.ApiKey}}';
            document.getElementById('name').value = '{{name}}';
            document.getElementById('signin-form').requestSubmit();
            """);
        var deviceId = await Eventually.UntilAsync(
            async () => (await page.EvaluateAsync(
                "JSON.parse(localStorage.getItem('huginn.contribute.device') ?? 'null')?.deviceId ?? " +
                "('not yet: ' + document.getElementById('signin-error').textContent + ' | ' + document.getElementById('log').innerText.slice(0, 300))"))?.GetValue<string>() ?? "",
            id => id.StartsWith("dev_", StringComparison.Ordinal), $"{name}: the page registering its device", TimeSpan.FromSeconds(30));
        var owner = anonymous.As(account.ApiKey);
        await Eventually.UntilAsync(() => owner.DeviceAsync(deviceId), d => d.Status == "online", $"{name}: the page's worker coming online", TimeSpan.FromSeconds(30));
        // The page says so once its worker has the welcome (the pool marks the device online a moment before).
        await Eventually.UntilAsync(async () => (await page.EvaluateAsync("document.body.dataset.state"))?.GetValue<string>(), state => state == "online",
            $"{name}: the page showing its worker online", TimeSpan.FromSeconds(10));
        return (page, owner, deviceId);
    }
}
