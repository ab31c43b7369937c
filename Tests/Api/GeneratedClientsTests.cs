using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Huginn.Client.Generated;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Tests.Pool;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Generated = Huginn.Client.Generated.Models;

namespace Huginn.Tests.Api;

/// <summary>
/// Clients generated from docs/openapi.json run the whole flow against a real local pool with two workers (issue 13,
/// item 7): create account → credit → upload dataset → estimate → submit → follow → result. C#: Kiota
/// (clients/csharp, generated code committed, drift-checked here); TypeScript: openapi-typescript + openapi-fetch
/// (clients/typescript, built by `npm ci && npm run build` there, which scripts/test.sh does before the .NET suite).
/// </summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class GeneratedClientsTests(ApiPoolFixture fixture)
{
    private const int InputSize = 8, Samples = 256, Hidden = 16;

    /// <summary>Weights of MLP 8-16-1: what the result holds, as f32.</summary>
    private const int WeightCount = InputSize * Hidden + Hidden + Hidden + 1;

    // Distinct from the default (0.05): the job's stored spec shows the client really sent it.
    private const float LearningRate = 0.125f;

    private static HuginnApiClient Kiota(Uri api, string? key = null)
    {
        var http = new HttpClient();
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return new HuginnApiClient(new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http)
        {
            BaseUrl = api.ToString().TrimEnd('/'),
        });
    }

    /// <summary>f32 rows: InputSize features, then a target that is a fixed linear function of them.</summary>
    private static byte[] Dataset()
    {
        var random = new Random(12345);
        var rows = new float[Samples * (InputSize + 1)];
        for (var i = 0; i < Samples; i++)
        {
            var target = 0f;
            for (var j = 0; j < InputSize; j++)
            {
                var x = (float)(random.NextDouble() * 2 - 1);
                rows[i * (InputSize + 1) + j] = x;
                target += x * (j % 2 == 0 ? 0.5f : -0.25f);
            }
            rows[i * (InputSize + 1) + InputSize] = target;
        }
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(rows.AsSpan()).ToArray();
    }

    [Fact]
    public async Task Kiota_client_registers_a_device_and_runs_the_flow_with_typed_responses()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("kiota-worker-a");
        await workers.StartAsync("kiota-worker-b");
        var anonymous = Kiota(fixture.Pool.ApiUrl);

        // A contributor registers a device through the generated client.
        var contributorAccount = await anonymous.V1.Accounts.PostAsync(new Generated.CreateAccountRequest
        {
            Name = "kiota-contributor", Role = Generated.CreateAccountRequest_role.Contributor,
        });
        var contributor = Kiota(fixture.Pool.ApiUrl, contributorAccount!.ApiKey);
        var registered = await contributor.V1.Devices.PostAsync(new Generated.RegisterDeviceRequest
        {
            Name = "kiota-device",
            Capabilities = new Generated.DeviceCapabilitiesDto
            {
                Kind = Generated.DeviceCapabilitiesDto_kind.Cpu, Gflops = 12.5, CpuCores = 2, MemoryMb = 2048, Runtimes = ["torchsharp-cpu"], Slots = 1,
            },
        });
        Assert.StartsWith("dev_", registered!.DeviceId);
        Assert.False(string.IsNullOrEmpty(registered.DeviceToken));
        var device = await contributor.V1.Devices[registered.DeviceId].GetAsync();
        Assert.Equal(12.5, device!.Capabilities!.Gflops);
        Assert.Equal(Generated.DeviceResponse_status.Offline, device.Status);

        // The client: account, credit, dataset, estimate, submit, follow, result.
        var account = await anonymous.V1.Accounts.PostAsync(new Generated.CreateAccountRequest { Name = "kiota-client", Role = Generated.CreateAccountRequest_role.Client });
        var client = Kiota(fixture.Pool.ApiUrl, account!.ApiKey);
        var credited = await client.V1.Accounts.Me.Credits.PostAsync(new Generated.CreditRequest { Hu = 50 });
        Assert.Equal(50, credited!.BalanceHu);
        Assert.Equal(Generated.AccountResponse_role.Client, credited.Role);

        var dataset = Dataset();
        var blob = await client.V1.Blobs.PostAsync(new MemoryStream(dataset));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(dataset)), blob!.BlobId);
        Assert.Equal(dataset.Length, blob.Bytes);

        var spec = new Generated.JobSpec
        {
            Kind = Generated.WorkloadKind.Train,
            Model = new Generated.ModelSpec
            {
                Type = Generated.ModelSpec_type.Mlp, InputSize = InputSize, HiddenSizes = [Hidden], OutputSize = 1,
                Activation = Generated.ModelSpec_activation.Relu, Loss = Generated.ModelSpec_loss.Mse,
            },
            Dataset = new Generated.DatasetSpec { BlobId = blob.BlobId, Samples = Samples, Format = Generated.DatasetSpec_format.F32 },
            Rounds = 2, ShardsPerRound = 2, LocalSteps = 4, BatchSize = 32, LearningRate = LearningRate, Seed = 7,
        };
        var estimate = await client.V1.Estimates.PostAsync(spec);
        Assert.True(estimate!.Hu > 0);
        Assert.Equal(4, estimate.Shards); // 2 rounds of 2

        var submitted = await client.V1.Jobs.PostAsync(new Generated.SubmitJobRequest { Spec = spec, MaxHu = estimate.Hu * 2 },
            c => c.Headers.Add("Idempotency-Key", "kiota-flow"));
        var jobId = submitted!.JobId!;
        var job = await Eventually.UntilAsync(() => client.V1.Jobs[jobId].GetAsync(),
            j => j!.State is Generated.JobResponse_state.Completed or Generated.JobResponse_state.Failed or Generated.JobResponse_state.Cancelled,
            "the Kiota client's job finishing", TimeSpan.FromSeconds(120));
        Assert.Equal(Generated.JobResponse_state.Completed, job!.State);
        Assert.Equal(2, job.Progress!.Rounds);

        await using var result = await client.V1.Jobs[jobId].Result.GetAsync(c => c.QueryParameters.Format = Huginn.Client.Generated.V1.Jobs.Item.Result.GetFormatQueryParameterType.F32);
        using var bytes = new MemoryStream();
        await result!.CopyToAsync(bytes);
        Assert.Equal(WeightCount * sizeof(float), bytes.Length);

        // The pool's own record: the learning rate the client sent, the dataset it uploaded.
        var stored = await fixture.Pool.Grains.GetGrain<IJobGrain>(jobId).GetAsync();
        Assert.Equal(LearningRate, stored!.Spec.LearningRate);
        Assert.Equal(blob.BlobId, stored.Spec.Dataset.BlobId);
    }

    [Fact]
    public async Task TypeScript_client_runs_the_flow_under_node()
    {
        var package = Path.Combine(OpenApiContractTests.RepositoryRoot(), "clients", "typescript");
        var script = Path.Combine(package, "dist", "flow.js");
        Assert.True(File.Exists(script), $"{script} is missing: run (cd clients/typescript && npm ci && npm run build) first (scripts/test.sh does)");
        // Typed end to end: no `as` casts and no non-null assertions in the flow (tsc --strict built it).
        var code = string.Join('\n', File.ReadAllLines(Path.Combine(package, "src", "flow.ts")).Where(l => !l.TrimStart().StartsWith('/') && !l.TrimStart().StartsWith('*')));
        Assert.DoesNotMatch(@"\bas\s+(?!const\b)[A-Za-z{(\[]|\w[!]\.", code);
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("typescript-worker-a");
        await workers.StartAsync("typescript-worker-b");

        var start = new ProcessStartInfo("node", [script])
        {
            WorkingDirectory = package, RedirectStandardOutput = true, RedirectStandardError = true,
            Environment = { ["HUGINN_API"] = fixture.Pool.ApiUrl.ToString().TrimEnd('/') },
        };
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            Assert.Fail($"node flow.js did not finish in 180 s: {await stdout} {await stderr}");
        }
        Assert.True(node.ExitCode == 0, $"node flow.js exited {node.ExitCode}: {await stdout} {await stderr}");

        var report = JsonDocument.Parse((await stdout).Trim().Split('\n')[^1]).RootElement;
        Assert.Equal("completed", report.GetProperty("state").GetString());
        Assert.Equal(50, report.GetProperty("balanceHu").GetDecimal());
        Assert.Equal(WeightCount, report.GetProperty("weights").GetInt32());
        var stored = await fixture.Pool.Grains.GetGrain<IJobGrain>(report.GetProperty("jobId").GetString()!).GetAsync();
        Assert.Equal(LearningRate, stored!.Spec.LearningRate);
        Assert.NotNull(stored.Spec.Dataset.BlobId);
    }

    /// <summary>The committed Kiota client is what Kiota generates from the committed document (scripts/openapi-export.sh).</summary>
    [Fact]
    public async Task Committed_Kiota_client_is_what_Kiota_generates_from_docs_openapi_json()
    {
        var root = OpenApiContractTests.RepositoryRoot();
        var output = Directory.CreateTempSubdirectory("huginn-kiota-").FullName;
        try
        {
            var start = new ProcessStartInfo("dotnet", ["tool", "run", "kiota", "--", .. KiotaArguments(Path.Combine(root, "docs", "openapi.json"), output)])
            {
                WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true,
                Environment = { ["KIOTA_TUTORIAL_ENABLED"] = "false", ["KIOTA_OFFLINE_ENABLED"] = "true" },
            };
            using var kiota = Process.Start(start)!;
            var log = kiota.StandardOutput.ReadToEndAsync();
            var errors = kiota.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
            await kiota.WaitForExitAsync(timeout.Token);
            Assert.True(kiota.ExitCode == 0, $"kiota failed (dotnet tool restore first): {await log} {await errors}");

            var committed = Path.Combine(root, "clients", "csharp", "Generated");
            var expected = Directory.GetFiles(output, "*.cs", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output, f)).Order().ToList();
            var actual = Directory.GetFiles(committed, "*.cs", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(committed, f)).Order().ToList();
            Assert.True(expected.SequenceEqual(actual), $"clients/csharp/Generated lists other files than Kiota generates: {OpenApiContractTests.RegenerateHint}");
            foreach (var file in expected)
                Assert.True(await File.ReadAllTextAsync(Path.Combine(output, file)) == await File.ReadAllTextAsync(Path.Combine(committed, file)),
                    $"clients/csharp/Generated/{file} differs from what Kiota generates: {OpenApiContractTests.RegenerateHint}");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>Kiota's arguments, shared with scripts/openapi-export.sh (keep both the same).</summary>
    public static string[] KiotaArguments(string document, string output) =>
        ["generate", "-l", "CSharp", "-d", document, "-o", output, "-c", "HuginnApiClient", "-n", "Huginn.Client.Generated",
         "--exclude-backward-compatible", "--clean-output", "--log-level", "Warning"];
}
