using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Huginn.Api.Apis;
using Huginn.Demo;
using Huginn.Protocol;
using Huginn.Tests.Pool;
using Huginn.Workloads;
using Microsoft.Extensions.Configuration;
using TorchSharp;

namespace Huginn.Tests.Api;

/// <summary>The client surface of API.md, its error paths, and who may touch whose work and money.</summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class ClientApiTests(ApiPoolFixture fixture)
{
    private HttpClient Http(string? key = null)
    {
        var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private async Task<(string Key, string AccountId)> AccountAsync(string role, decimal hu = 0)
    {
        using var http = Http();
        var created = await (await http.PostAsJsonAsync("v1/accounts", new { name = $"{role}-test", role })).Content.ReadFromJsonAsync<CreateAccountResponse>(Frame.Json);
        if (hu > 0)
        {
            using var owner = Http(created!.ApiKey);
            (await owner.PostAsJsonAsync("v1/accounts/me/credits", new { hu })).EnsureSuccessStatusCode();
        }
        return (created!.ApiKey, created.AccountId);
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static object SubmitBody(JobSpec spec, decimal? maxHu = null) => new { spec, maxHu };

    private async Task<HttpResponseMessage> PostJsonAsync(HttpClient http, string path, object body) =>
        await http.PostAsync(path, JsonContent.Create(body, body.GetType(), options: Frame.Json));

    [Fact]
    public async Task Account_creation_names_every_invalid_field()
    {
        using var http = Http();

        var response = await http.PostAsJsonAsync("v1/accounts", new { name = "", role = "admin" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await ProblemAsync(response)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("role", out _));
    }

    [Fact]
    public async Task Operator_accounts_cannot_be_created_without_the_operator_key()
    {
        using var http = Http();
        var response = await http.PostAsJsonAsync("v1/accounts", new { name = "eve", role = "operator" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Every_endpoint_but_the_open_ones_needs_a_valid_key()
    {
        using var anonymous = Http();
        using var wrong = Http("hk_wrong");
        foreach (var http in new[] { anonymous, wrong })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("v1/accounts/me")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("v1/pool")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("v1/jobs/job_x")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostJsonAsync(http, "v1/estimates", Specs.TeacherTraining(1, 1))).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task Credits_in_the_local_default_are_bought_by_asking()
    {
        var (key, accountId) = await AccountAsync("client");
        using var http = Http(key);

        var response = await http.PostAsJsonAsync("v1/accounts/me/credits", new { hu = 12.5m });
        var me = await http.GetFromJsonAsync<AccountResponse>("v1/accounts/me", Frame.Json);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(accountId, me!.AccountId);
        Assert.Equal("client", me.Role);
        Assert.Equal(12.5m, me.BalanceHu);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsJsonAsync("v1/accounts/me/credits", new { hu = -1 })).StatusCode);
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Estimate_is_deterministic_for_the_same_spec_and_pool()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("estimator-a");
        await workers.StartAsync("estimator-b");
        var (key, _) = await AccountAsync("client");
        using var http = Http(key);
        var spec = EdgeSpecs.Training(rounds: 3, shards: 4);

        var first = await (await PostJsonAsync(http, "v1/estimates", spec)).Content.ReadFromJsonAsync<EstimateResponse>(Frame.Json);
        var second = await (await PostJsonAsync(http, "v1/estimates", spec)).Content.ReadFromJsonAsync<EstimateResponse>(Frame.Json);

        Assert.NotNull(first);
        Assert.NotNull(second);
        // Records compare by value; the breakdown too.
        Assert.Equal(first, second);
        Assert.Equal(12, first.Shards);
        Assert.Equal(1.0, first.AuditFraction);
        Assert.Equal(first.Breakdown.WorkHu + first.Breakdown.AuditHu + first.Breakdown.FeeHu, first.Hu);
        Assert.Equal(first.Hu * 0.21m, first.Eur);
        Assert.True(first.EtaSeconds > 0);
    }

    [Fact]
    public async Task Spec_that_no_device_online_can_run_is_refused_before_anything_is_charged()
    {
        var (key, _) = await AccountAsync("client", hu: 5);
        using var http = Http(key);

        var response = await PostJsonAsync(http, "v1/jobs", SubmitBody(EdgeSpecs.Training(2, 2)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("no device online can run it", (await ProblemAsync(response)).GetProperty("errors").GetProperty("spec")[0].GetString());
        Assert.Equal(5m, (await http.GetFromJsonAsync<AccountResponse>("v1/accounts/me", Frame.Json))!.BalanceHu);
    }

    [Fact]
    public async Task Invalid_spec_names_the_field_and_the_reason()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("validator");
        var (key, _) = await AccountAsync("client", hu: 5);
        using var http = Http(key);
        var spec = EdgeSpecs.Training(2, 2) with { LocalSteps = 500, Model = new ModelSpec { Type = "resnet", InputSize = 8, OutputSize = 1 } };

        var response = await PostJsonAsync(http, "v1/jobs", SubmitBody(spec));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await ProblemAsync(response)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("model.type", out _), errors.ToString());
        Assert.True(errors.TryGetProperty("localSteps", out _), errors.ToString());
    }

    [Fact]
    public async Task Oversized_request_body_is_refused_with_413()
    {
        var (key, _) = await AccountAsync("client");
        using var http = Http(key);
        var padding = new string('x', 2 * 1024 * 1024);

        // Expect: 100-continue lets the server refuse on the declared length before the body is sent,
        // as a well-behaved client would; otherwise the refusal races the upload.
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/estimates")
        {
            Content = new StringContent($"{{\"kind\":\"train\",\"pad\":\"{padding}\"}}", null, "application/json"),
        };
        request.Headers.ExpectContinue = true;
        var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Submission_beyond_the_balance_is_refused_with_402_and_charges_nothing()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("idle");
        await workers.StartAsync("idle-2");
        var (key, _) = await AccountAsync("client", hu: 0.00001m);
        using var http = Http(key);

        var response = await PostJsonAsync(http, "v1/jobs", SubmitBody(EdgeSpecs.Training(2, 2), maxHu: 1));

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        Assert.Equal("insufficient balance", (await ProblemAsync(response)).GetProperty("title").GetString());
        var me = await http.GetFromJsonAsync<AccountResponse>("v1/accounts/me", Frame.Json);
        Assert.Equal(0.00001m, me!.BalanceHu);
        Assert.Equal(0m, me.EscrowHu);
    }

    [Fact]
    public async Task Contributor_cannot_submit_jobs_whatever_its_funds()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("idle");
        await workers.StartAsync("idle-2");
        var (key, _) = await AccountAsync("contributor");
        using var http = Http(key);

        Assert.Equal(HttpStatusCode.Forbidden, (await PostJsonAsync(http, "v1/jobs", SubmitBody(EdgeSpecs.Training(1, 1)))).StatusCode);
    }

    [Fact]
    public async Task Retried_submission_with_the_same_idempotency_key_returns_the_same_job_and_charges_once()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("idem-a");
        await workers.StartAsync("idem-b");
        var (key, _) = await AccountAsync("client", hu: 1);
        using var http = Http(key);
        var body = SubmitBody(EdgeSpecs.Training(1, 2), maxHu: 0.01m);

        async Task<HttpResponseMessage> SubmitAsync(object b, string idempotencyKey)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/jobs") { Content = JsonContent.Create(b, b.GetType(), options: Frame.Json) };
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            return await http.SendAsync(request);
        }
        var first = await (await SubmitAsync(body, "order-42")).Content.ReadFromJsonAsync<SubmitJobResponse>(Frame.Json);
        var retry = await SubmitAsync(body, "order-42");
        var other = await SubmitAsync(SubmitBody(EdgeSpecs.Training(1, 3), maxHu: 0.01m), "order-42");

        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal(first!.JobId, (await retry.Content.ReadFromJsonAsync<SubmitJobResponse>(Frame.Json))!.JobId);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        await Eventually.UntilAsync(() => http.GetFromJsonAsync<JobResponse>($"v1/jobs/{first.JobId}", Frame.Json), j => j!.State == "completed", "the job completing");
        var me = await Eventually.UntilAsync(() => http.GetFromJsonAsync<AccountResponse>("v1/accounts/me", Frame.Json), a => a!.EscrowHu == 0, "the escrow settling");
        var job = await http.GetFromJsonAsync<JobResponse>($"v1/jobs/{first.JobId}", Frame.Json);
        Assert.Equal(1m - job!.SpentHu, me!.BalanceHu);
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Another_client_cannot_read_follow_download_or_cancel_a_job()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("owner-a");
        await workers.StartAsync("owner-b");
        var (ownerKey, _) = await AccountAsync("client", hu: 1);
        var (strangerKey, _) = await AccountAsync("client", hu: 1);
        using var owner = Http(ownerKey);
        using var stranger = Http(strangerKey);
        var submitted = await (await PostJsonAsync(owner, "v1/jobs", SubmitBody(EdgeSpecs.Training(1, 2), maxHu: 0.01m))).Content.ReadFromJsonAsync<SubmitJobResponse>(Frame.Json);
        var jobId = submitted!.JobId;

        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync($"v1/jobs/{jobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync($"v1/jobs/{jobId}/events")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync($"v1/jobs/{jobId}/result")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.DeleteAsync($"v1/jobs/{jobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync("v1/jobs/job_does_not_exist")).StatusCode);
        var infer = new JobSpec
        {
            Kind = WorkloadKind.Infer, Model = EdgeSpecs.Training(1, 1).Model, WeightsFromJobId = jobId,
            Dataset = new DatasetSpec { Synthetic = new SyntheticDatasetSpec { Samples = 32, Seed = 1 } },
        };
        var stolen = await PostJsonAsync(stranger, "v1/jobs", SubmitBody(infer));
        Assert.Equal(HttpStatusCode.BadRequest, stolen.StatusCode);
        Assert.True((await ProblemAsync(stolen)).GetProperty("errors").TryGetProperty("weightsFromJobId", out _));
        await Eventually.UntilAsync(() => owner.GetFromJsonAsync<JobResponse>($"v1/jobs/{jobId}", Frame.Json), j => j!.State == "completed", "the job completing");
        Assert.Equal(1m, (await stranger.GetFromJsonAsync<AccountResponse>("v1/accounts/me", Frame.Json))!.BalanceHu);
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Train_then_infer_with_the_trained_weights_and_load_them_in_TorchSharp()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("ml-a");
        await workers.StartAsync("ml-b");
        var (key, _) = await AccountAsync("client", hu: 1);
        using var http = Http(key);
        var training = EdgeSpecs.Training(rounds: 2, shards: 2);
        var trained = (await (await PostJsonAsync(http, "v1/jobs", SubmitBody(training))).Content.ReadFromJsonAsync<SubmitJobResponse>(Frame.Json))!;
        Assert.Equal(HttpStatusCode.Conflict, (await http.GetAsync($"v1/jobs/{trained.JobId}/result")).StatusCode);
        var done = await Eventually.UntilAsync(() => http.GetFromJsonAsync<JobResponse>($"v1/jobs/{trained.JobId}", Frame.Json), j => j!.State == "completed", "training completing");
        Assert.Equal(done!.SpentHu, done.ActualHu);
        Assert.True(done.EstimatedHu >= done.ActualHu);

        // The trained weights load into the documented TorchSharp module.
        var file = await http.GetByteArrayAsync($"v1/jobs/{trained.JobId}/result?format=torchsharp");
        var raw = WeightsFormat.FromBytes(await http.GetByteArrayAsync($"v1/jobs/{trained.JobId}/result"));
        using var module = torch.nn.Sequential(("fc0", torch.nn.Linear(8, 16)), ("act", torch.nn.ReLU()), ("fc1", torch.nn.Linear(16, 1)));
        module.load(new MemoryStream(file));
        var loaded = module.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
        Assert.Equal(raw, loaded);

        var infer = new JobSpec
        {
            Kind = WorkloadKind.Infer, Model = training.Model, WeightsFromJobId = trained.JobId, ShardsPerRound = 2,
            Dataset = new DatasetSpec { Synthetic = new SyntheticDatasetSpec { Samples = 64, Seed = 5 } },
        };
        var inferred = (await (await PostJsonAsync(http, "v1/jobs", SubmitBody(infer))).Content.ReadFromJsonAsync<SubmitJobResponse>(Frame.Json))!;
        try
        {
            await Eventually.UntilAsync(() => http.GetFromJsonAsync<JobResponse>($"v1/jobs/{inferred.JobId}", Frame.Json), j => j!.State == "completed", "inference completing");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nworkers:\n{string.Join("\n", workers.Log)}");
        }
        var outputs = WeightsFormat.FromBytes(await http.GetByteArrayAsync($"v1/jobs/{inferred.JobId}/result"));
        Assert.Equal(64, outputs.Length);
        var data = SyntheticData.Generate(infer.Dataset.Synthetic!, infer.Model!, 0, 64);
        var expected = ReferenceExecutor.Execute(infer, JobPlanner.Plan(infer).Shard(0, 0) with { SampleOffset = 0, SampleCount = 64 }, raw, data).Values;
        Assert.True(TensorComparison.RelativeL2(expected, outputs) < 1e-5);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"v1/jobs/{inferred.JobId}/result?format=torchsharp")).StatusCode);
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Events_stream_progress_round_losses_and_the_final_state()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("sse-a");
        await workers.StartAsync("sse-b");
        var (key, _) = await AccountAsync("client", hu: 1);
        using var http = Http(key);
        var submitted = (await (await PostJsonAsync(http, "v1/jobs", SubmitBody(EdgeSpecs.Training(rounds: 3, shards: 2)))).Content.ReadFromJsonAsync<SubmitJobResponse>(Frame.Json))!;

        using var response = await http.GetAsync($"v1/jobs/{submitted.JobId}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) events.Add(line["event: ".Length..]);
        }

        Assert.Equal("progress", events[0]);
        Assert.Equal(3, events.Count(e => e == "round"));
        Assert.Equal("state", events[^1]);
    }

    [Fact]
    public async Task Cancelling_through_the_api_refunds_the_unspent_escrow()
    {
        // Two devices of two owners that take shards and never answer.
        var stallers = new List<System.Net.WebSockets.ClientWebSocket>();
        foreach (var name in new[] { "staller-a", "staller-b" })
        {
            var (ownerKey, deviceId, token) = await fixture.DeviceAsync(name);
            var staller = await fixture.ConnectRawAsync(token);
            await new FrameSocket(staller, Frame.DefaultMaxFrameBytes).SendAsync(new HelloMessage(Frame.Version, null, "test"), CancellationToken.None);
            await Eventually.UntilAsync(() => ownerKey.DeviceAsync(deviceId), d => d.Status == "online", $"{name} online");
            stallers.Add(staller);
        }
        var (key, _) = await AccountAsync("client", hu: 1);
        using var http = Http(key);
        var submitted = (await (await PostJsonAsync(http, "v1/jobs", SubmitBody(EdgeSpecs.Training(1, 2), maxHu: 0.5m))).Content.ReadFromJsonAsync<SubmitJobResponse>(Frame.Json))!;

        var cancelled = await (await http.DeleteAsync($"v1/jobs/{submitted.JobId}")).Content.ReadFromJsonAsync<JobResponse>(Frame.Json);

        Assert.Equal("cancelled", cancelled!.State);
        Assert.Equal(0.5m, cancelled.RefundedHu);
        var me = await Eventually.UntilAsync(() => http.GetFromJsonAsync<AccountResponse>("v1/accounts/me", Frame.Json), a => a!.EscrowHu == 0, "the refund");
        Assert.Equal(1m, me!.BalanceHu);
        Assert.Equal(HttpStatusCode.Conflict, (await http.GetAsync($"v1/jobs/{submitted.JobId}/result")).StatusCode);
        foreach (var staller in stallers)
        {
            staller.Abort();
            staller.Dispose();
        }
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Pool_shows_devices_online_and_the_price_of_hu()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("pool-a");
        var (key, _) = await AccountAsync("contributor");
        using var http = Http(key);

        var pool = await http.GetFromJsonAsync<PoolResponse>("v1/pool", Frame.Json);

        Assert.Equal(1, pool!.DevicesOnline);
        Assert.Equal(1, pool.ByKind["cpu"]);
        Assert.True(pool.GflopsOnline > 0);
        Assert.Equal(0.21m, pool.HuPriceEur);
    }

    [Fact]
    public async Task OpenAPI_document_describes_every_endpoint_with_a_summary_and_the_ui_serves_it()
    {
        using var http = Http();
        var document = await http.GetFromJsonAsync<JsonElement>("openapi/v1.json");
        var paths = document.GetProperty("paths");

        foreach (var path in new[] { "/v1/accounts", "/v1/accounts/me", "/v1/accounts/me/credits", "/v1/devices", "/v1/devices/{deviceId}",
                     "/v1/blobs", "/v1/blobs/{blobId}", "/v1/estimates", "/v1/jobs", "/v1/jobs/{jobId}", "/v1/jobs/{jobId}/events",
                     "/v1/jobs/{jobId}/result", "/v1/pool", "/healthz" })
        {
            Assert.True(paths.TryGetProperty(path, out var operations), $"{path} is missing from the OpenAPI document");
            foreach (var operation in operations.EnumerateObject().Where(o => o.Name is "get" or "post" or "delete"))
                Assert.False(string.IsNullOrEmpty(operation.Value.GetProperty("summary").GetString()), $"{operation.Name} {path} has no summary");
        }
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("docs/index.html")).StatusCode);
    }

    [Fact]
    public async Task Requests_beyond_the_rate_limit_get_429()
    {
        var limits = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Api:RequestsPerSecond"] = "1",
            ["Huginn:Api:RequestBurst"] = "3",
        }).Build();
        await using var pool = await LocalPool.StartAsync(limits);
        using var http = new HttpClient { BaseAddress = pool.ApiUrl };
        var account = await (await http.PostAsJsonAsync("v1/accounts", new { name = "hasty", role = "client" })).Content.ReadFromJsonAsync<CreateAccountResponse>(Frame.Json);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account!.ApiKey);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++) statuses.Add((await http.GetAsync("v1/accounts/me")).StatusCode);

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
    }

    [Fact]
    public async Task Gated_deployment_lets_only_the_operator_create_accounts_and_credit_them()
    {
        var gated = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Api:RegistrationRequiresOperator"] = "true",
            ["Huginn:Api:OpenCredits"] = "false",
            ["Huginn:Api:OperatorKey"] = Hostile.HostileAuthTests.StrongOperatorKey,
        }).Build();
        await using var pool = await LocalPool.StartAsync(gated);
        using var anonymous = new HttpClient { BaseAddress = pool.ApiUrl };
        using var op = new HttpClient { BaseAddress = pool.ApiUrl };
        op.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Hostile.HostileAuthTests.StrongOperatorKey);

        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.PostAsJsonAsync("v1/accounts", new { name = "x", role = "client" })).StatusCode);
        var created = await (await op.PostAsJsonAsync("v1/accounts", new { name = "x", role = "client" })).Content.ReadFromJsonAsync<CreateAccountResponse>(Frame.Json);
        using var client = new HttpClient { BaseAddress = pool.ApiUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created!.ApiKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("v1/accounts/me/credits", new { hu = 5 })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync($"v1/accounts/{created.AccountId}/credits", new { hu = 5 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsJsonAsync($"v1/accounts/{created.AccountId}/credits", new { hu = 5 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await op.PostAsJsonAsync("v1/accounts/acct_nobody/credits", new { hu = 5 })).StatusCode);
        Assert.Equal(5m, (await client.GetFromJsonAsync<AccountResponse>("v1/accounts/me", Frame.Json))!.BalanceHu);
    }
}
