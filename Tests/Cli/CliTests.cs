using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Huginn.Tests.Api;

namespace Huginn.Tests.Cli;

/// <summary>The huginn command as a user or a script runs it: a real process against the real local pool.</summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Cli")]
public sealed partial class CliTests(ApiPoolFixture fixture) : IDisposable
{
    private const int SampleParameters = 8 * 32 + 32 + 32 * 1 + 1;
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(60);

    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("huginn-cli-tests-");

    private HuginnCli Cli(string? key = null) => new(fixture.Pool.ApiUrl, key);

    private async Task<string> ClientKeyAsync(decimal hu)
    {
        var created = await Cli().RunAsync("account", "create", "--name", "cli-client", "--role", "client", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        var key = created.Json().GetProperty("apiKey").GetString()!;
        if (hu > 0) Assert.Equal(0, (await Cli(key).RunAsync("account", "credit", "--hu", hu.ToString(System.Globalization.CultureInfo.InvariantCulture))).ExitCode);
        return key;
    }

    private string SpecFile(string json)
    {
        var path = Path.Combine(_scratch.FullName, $"spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>The sample spec with some top-level fields replaced.</summary>
    private string SampleWith(params (string Field, object Value)[] changes)
    {
        var spec = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(HuginnCli.SampleSpec))!.AsObject();
        foreach (var (field, value) in changes) spec[field] = System.Text.Json.Nodes.JsonValue.Create(value);
        return SpecFile(spec.ToJsonString());
    }

    private static void AssertExit(int expected, CliRun run) => Assert.True(run.ExitCode == expected, $"expected exit {expected}\n{run}");

    [GeneratedRegex("job_[0-9a-f]{32}")]
    private static partial Regex JobId();

    [Fact]
    public async Task Account_create_show_and_credit_round_trip_with_exact_balances()
    {
        var created = await Cli().RunAsync("account", "create", "--name", "alice", "--role", "client", "--json");
        AssertExit(0, created);
        var accountId = created.Json().GetProperty("accountId").GetString()!;
        var key = created.Json().GetProperty("apiKey").GetString()!;

        var fresh = await Cli().RunAsync("account", "show", "--key", key, "--json");
        AssertExit(0, fresh);
        Assert.Equal(accountId, fresh.Json().GetProperty("accountId").GetString());
        Assert.Equal("client", fresh.Json().GetProperty("role").GetString());
        Assert.Equal(0m, fresh.Json().GetProperty("balanceHu").GetDecimal());

        // The key from the environment, as a shell with HUGINN_API_KEY exported passes it.
        var credited = await Cli(key).RunAsync("account", "credit", "--hu", "10", "--json");
        AssertExit(0, credited);
        Assert.Equal(10m, credited.Json().GetProperty("balanceHu").GetDecimal());

        var human = await Cli(key).RunAsync("account", "credit", "--hu", "2.5");
        AssertExit(0, human);
        Assert.Contains("12.5 HU", human.Stdout);

        var shown = (await Cli(key).RunAsync("account", "show", "--json")).Json();
        Assert.Equal(12.5m, shown.GetProperty("balanceHu").GetDecimal());
        Assert.Equal(0m, shown.GetProperty("escrowHu").GetDecimal());

        var text = await Cli().RunAsync("account", "create", "--name", "bob", "--role", "contributor");
        AssertExit(0, text);
        Assert.Contains("shown only this once", text.Stdout);
        Assert.Matches("acct_[0-9a-f]{32}", text.Stdout);
    }

    [Fact]
    public async Task Estimate_of_the_sample_spec_is_the_pools_price()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("cli-estimator");
        await workers.StartAsync("cli-estimator-2");
        var key = await ClientKeyAsync(0);

        var json = await Cli(key).RunAsync("estimate", HuginnCli.SampleSpec, "--json");
        AssertExit(0, json);
        var estimate = json.Json();
        Assert.Equal(12, estimate.GetProperty("shards").GetInt32());
        Assert.True(estimate.GetProperty("hu").GetDecimal() > 0, json.ToString());

        // Byte for byte what the API answers for the same spec.
        using var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var direct = await http.PostAsync("v1/estimates", new StringContent(File.ReadAllText(HuginnCli.SampleSpec), Encoding.UTF8, "application/json"));
        var api = JsonDocument.Parse(await direct.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(api.GetProperty("hu").GetDecimal(), estimate.GetProperty("hu").GetDecimal());
        Assert.Equal(api.GetProperty("eur").GetDecimal(), estimate.GetProperty("eur").GetDecimal());
        Assert.Equal(api.GetProperty("breakdown").GetProperty("feeHu").GetDecimal(), estimate.GetProperty("breakdown").GetProperty("feeHu").GetDecimal());

        var text = await Cli(key).RunAsync("estimate", HuginnCli.SampleSpec);
        AssertExit(0, text);
        foreach (var expected in new[] { $"{estimate.GetProperty("hu").GetDecimal()} HU", "€", "audit fraction", "work · audits · fee", "ETA", "mlp 8→[32]→1", "3 rounds × 4 shards" })
            Assert.Contains(expected, text.Stdout);
    }

    [Fact]
    public async Task Submit_with_yes_follows_real_workers_to_completion_and_the_result_downloads()
    {
        await using var workers = new RunningWorkers(fixture);
        for (var i = 0; i < 3; i++) await workers.StartAsync($"cli-worker-{i}");
        var key = await ClientKeyAsync(1);

        var submit = await Cli(key).RunAsync(["submit", HuginnCli.SampleSpec, "--yes"], JobTimeout);
        AssertExit(0, submit);
        var jobId = JobId().Match(submit.Stdout).Value;
        Assert.Contains($"Job {jobId} completed", submit.Stdout);
        Assert.Contains("refunded", submit.Stdout);

        var status = await Cli(key).RunAsync("status", jobId, "--json");
        AssertExit(0, status);
        var job = status.Json();
        Assert.Equal("completed", job.GetProperty("state").GetString());
        Assert.Equal(12, job.GetProperty("progress").GetProperty("shardsDone").GetInt32());
        Assert.Equal(3, job.GetProperty("metrics").GetProperty("loss").GetArrayLength());
        var actual = job.GetProperty("actualHu").GetDecimal();
        var account = (await Cli(key).RunAsync("account", "show", "--json")).Json();
        Assert.Equal(0m, account.GetProperty("escrowHu").GetDecimal());
        Assert.Equal(1m - actual, account.GetProperty("balanceHu").GetDecimal());

        var weights = Path.Combine(_scratch.FullName, "weights.f32");
        var result = await Cli(key).RunAsync("result", jobId, "--out", weights);
        AssertExit(0, result);
        Assert.Equal(4L * SampleParameters, new FileInfo(weights).Length);

        var torch = Path.Combine(_scratch.FullName, "weights.dat");
        var torchResult = await Cli(key).RunAsync("result", jobId, "--out", torch, "--format", "torchsharp", "--json");
        AssertExit(0, torchResult);
        Assert.Equal(new FileInfo(torch).Length, torchResult.Json().GetProperty("bytes").GetInt64());
        Assert.Equal("train", torchResult.Json().GetProperty("kind").GetString());

        // For scripts: the submission, then the final job, one JSON document per line.
        var scripted = await Cli(key).RunAsync(["submit", HuginnCli.SampleSpec, "--yes", "--json"], JobTimeout);
        AssertExit(0, scripted);
        var lines = scripted.JsonLines();
        Assert.Equal(2, lines.Length);
        Assert.Equal(lines[0].GetProperty("jobId").GetString(), lines[1].GetProperty("jobId").GetString());
        Assert.Equal("completed", lines[1].GetProperty("state").GetString());
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Submit_without_yes_on_a_non_interactive_stdin_exits_2_and_charges_nothing_and_without_HU_exits_5()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("cli-idle");
        await workers.StartAsync("cli-idle-2");
        var key = await ClientKeyAsync(1);

        var refused = await Cli(key).RunAsync("submit", HuginnCli.SampleSpec);

        AssertExit(2, refused);
        Assert.Contains("--yes", refused.Stderr);
        Assert.Contains("audit fraction", refused.Stdout);
        Assert.DoesNotMatch(JobId(), refused.Stdout + refused.Stderr);
        var account = (await Cli(key).RunAsync("account", "show", "--json")).Json();
        Assert.Equal(1m, account.GetProperty("balanceHu").GetDecimal());
        Assert.Equal(0m, account.GetProperty("escrowHu").GetDecimal());

        // With --yes it would go through, but an account without HU cannot fund the escrow.
        var broke = await Cli(await ClientKeyAsync(0)).RunAsync("submit", HuginnCli.SampleSpec, "--yes", "--no-follow");
        AssertExit(5, broke);
        Assert.Contains("insufficient balance (HTTP 402)", broke.Stderr);
    }

    [Fact]
    public async Task Invalid_specs_and_flags_exit_2_and_name_the_field()
    {
        var key = await ClientKeyAsync(0);

        var tooLong = await Cli(key).RunAsync("estimate", SampleWith(("localSteps", 500)));
        AssertExit(2, tooLong);
        Assert.Contains("invalid request (HTTP 400)", tooLong.Stderr);
        Assert.Contains("localSteps: ", tooLong.Stderr);

        var mistyped = await Cli(key).RunAsync("submit", SampleWith(("rounds", "three")), "--yes");
        AssertExit(2, mistyped);
        Assert.Contains("rounds: ", mistyped.Stderr);

        var notJson = await Cli(key).RunAsync("estimate", SpecFile("{ \"kind\": "));
        AssertExit(2, notJson);
        Assert.Contains("is not valid JSON", notJson.Stderr);

        AssertExit(2, await Cli(key).RunAsync("estimate", Path.Combine(_scratch.FullName, "missing.json")));
        AssertExit(2, await Cli(key).RunAsync("result", "job_x", "--out", "x.bin", "--format", "onnx"));
        AssertExit(2, await Cli(key).RunAsync("account", "credit", "--hu", "lots"));
        var negative = await Cli(key).RunAsync("account", "credit", "--hu", "-1");
        AssertExit(2, negative);
        Assert.Contains("hu: ", negative.Stderr);
    }

    [Fact]
    public async Task A_wrong_or_missing_key_exits_3()
    {
        var wrong = await Cli().RunAsync("account", "show", "--key", "hk_wrong");
        AssertExit(3, wrong);
        Assert.Contains("unauthorized (HTTP 401)", wrong.Stderr);

        AssertExit(3, await Cli("hk_wrong").RunAsync("status", "job_x"));
        AssertExit(3, await Cli().RunAsync("pool"));

        // A client key cannot register devices: forbidden is an authorization failure too.
        var client = await ClientKeyAsync(0);
        var forbidden = await Cli(client).RunAsync("devices", "register", "--name", "gpu0", "--kind", "cpu", "--gflops", "10", "--memory-mb", "1024");
        AssertExit(3, forbidden);
        Assert.Contains("forbidden (HTTP 403)", forbidden.Stderr);
    }

    [Fact]
    public async Task Unknown_ids_exit_4_and_an_unreachable_api_exits_7()
    {
        var key = await ClientKeyAsync(0);

        var status = await Cli(key).RunAsync("status", "job_doesnotexist");
        AssertExit(4, status);
        Assert.Contains("not found (HTTP 404)", status.Stderr);
        AssertExit(4, await Cli(key).RunAsync("result", "job_doesnotexist", "--out", Path.Combine(_scratch.FullName, "none.bin")));
        AssertExit(4, await Cli(key).RunAsync("cancel", "job_doesnotexist"));

        var unreachable = await new HuginnCli(new Uri("http://127.0.0.1:1/"), key).RunAsync("account", "show");
        AssertExit(7, unreachable);
        Assert.Contains("cannot reach the Huginn API", unreachable.Stderr);
    }

    [Fact]
    public async Task Cancel_stops_a_running_job_and_refunds_the_unspent_escrow()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("cli-cancel");
        await workers.StartAsync("cli-cancel-2");
        var key = await ClientKeyAsync(1);
        var longJob = SampleWith(("rounds", 200), ("localSteps", 100));

        var submitted = await Cli(key).RunAsync("submit", longJob, "--yes", "--no-follow", "--json", "--max-hu", "0.5");
        AssertExit(0, submitted);
        var jobId = submitted.Json().GetProperty("jobId").GetString()!;

        var cancelled = await Cli(key).RunAsync("cancel", jobId, "--json");
        AssertExit(0, cancelled);
        var job = cancelled.Json();
        Assert.Equal("cancelled", job.GetProperty("state").GetString());
        var refunded = job.GetProperty("refundedHu").GetDecimal();
        var spent = job.GetProperty("actualHu").GetDecimal();
        Assert.Equal(0.5m, refunded + spent);

        var account = (await Cli(key).RunAsync("account", "show", "--json")).Json();
        Assert.Equal(0m, account.GetProperty("escrowHu").GetDecimal());
        Assert.Equal(1m - spent, account.GetProperty("balanceHu").GetDecimal());

        // Following or streaming a cancelled job ends at once, with the exit code of a job that did not complete.
        AssertExit(1, await Cli(key).RunAsync("follow", jobId));
        var events = await Cli(key).RunAsync("events", jobId);
        AssertExit(1, events);
        Assert.StartsWith("progress: {", events.Stdout);
        Assert.Contains("state: {", events.Stdout);
        Assert.Contains("\"state\":\"cancelled\"", events.Stdout);
        var raw = await Cli(key).RunAsync("events", jobId, "--json");
        AssertExit(1, raw);
        Assert.Contains("event: state\ndata: {", raw.Stdout);

        var again = await Cli(key).RunAsync("cancel", jobId);
        AssertExit(0, again);
        Assert.Contains("already cancelled", again.Stdout);
        // A cancelled training job keeps the checkpoint of its last completed round, if it completed one; else no result.
        var roundsCompleted = job.GetProperty("metrics").GetProperty("loss").GetArrayLength();
        var result = await Cli(key).RunAsync("result", jobId, "--out", Path.Combine(_scratch.FullName, "checkpoint.bin"));
        AssertExit(roundsCompleted > 0 ? 0 : 5, result);
    }

    [Fact]
    public async Task Devices_register_and_show_and_the_pool_for_a_contributor()
    {
        var created = (await Cli().RunAsync("account", "create", "--name", "cli-contributor", "--role", "contributor", "--json")).Json();
        var key = created.GetProperty("apiKey").GetString()!;

        var registered = await Cli(key).RunAsync("devices", "register", "--name", "rig", "--kind", "gpu", "--gflops", "12000",
            "--memory-mb", "65536", "--vram-mb", "24576", "--gpu-name", "RTX 4090", "--runtimes", "torch", "--cpu-cores", "16", "--json");
        AssertExit(0, registered);
        var deviceId = registered.Json().GetProperty("deviceId").GetString()!;
        Assert.False(string.IsNullOrEmpty(registered.Json().GetProperty("deviceToken").GetString()));

        var shown = await Cli(key).RunAsync("devices", "show", deviceId, "--json");
        AssertExit(0, shown);
        var device = shown.Json();
        Assert.Equal("rig", device.GetProperty("name").GetString());
        Assert.Equal("gpu", device.GetProperty("capabilities").GetProperty("kind").GetString());
        Assert.Equal(24576, device.GetProperty("capabilities").GetProperty("vramMb").GetInt64());
        Assert.Equal(16, device.GetProperty("capabilities").GetProperty("cpuCores").GetInt32());

        var text = await Cli(key).RunAsync("devices", "show", deviceId);
        AssertExit(0, text);
        Assert.Contains("RTX 4090", text.Stdout);

        var noVram = await Cli(key).RunAsync("devices", "register", "--name", "bad", "--kind", "gpu", "--gflops", "10", "--memory-mb", "1024");
        AssertExit(2, noVram);
        Assert.Contains("capabilities.vramMb: ", noVram.Stderr);

        var pool = await Cli(key).RunAsync("pool", "--json");
        AssertExit(0, pool);
        Assert.True(pool.Json().GetProperty("huPriceEur").GetDecimal() > 0, pool.ToString());
        AssertExit(0, await Cli(key).RunAsync("pool"));
    }

    [Fact]
    public async Task Help_documents_the_exit_codes_and_bad_usage_exits_2()
    {
        var help = await Cli().RunAsync("--help");
        AssertExit(0, help);
        Assert.Contains("Exit codes:", help.Stdout);
        Assert.Contains("7    API unreachable", help.Stdout);
        foreach (var command in new[] { "account", "estimate", "submit", "status", "events", "result", "cancel", "devices", "pool" })
            Assert.Contains($"  {command}", help.Stdout);

        AssertExit(2, await Cli().RunAsync("submit"));
        AssertExit(2, await Cli().RunAsync("frobnicate"));
        AssertExit(2, await Cli().RunAsync("account", "create", "--name", "x", "--role", "admin"));
    }

    public void Dispose() => _scratch.Delete(recursive: true);
}
