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
/// item 7): create account → credit → upload a dataset in chunks → estimate → submit → follow → result. C#: Kiota
/// (clients/csharp, generated code committed, drift-checked here); TypeScript: openapi-typescript + openapi-fetch
/// (clients/typescript, built by `npm ci && npm run build` there, which scripts/test.sh does before the .NET suite).
/// </summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class GeneratedClientsTests(ApiPoolFixture fixture)
{
    private const int InputSize = 8, Samples = 256, Hidden = 16;

    /// <summary>Weights of MLP 8-16-1: what the result holds, as f32.</summary>
    private const int WeightCount = InputSize * Hidden + Hidden + Hidden + 1;

    /// <summary>The tensors of MLP 8-16-1 in safetensors, as PyTorch's <c>nn.Sequential(Linear, ReLU, Linear)</c> names them.</summary>
    private const string SafetensorsShapes = "0.bias [16]; 0.weight [16, 8]; 2.bias [1]; 2.weight [1, 16]";

    /// <summary>Small chunks on purpose: the 9,216-byte dataset travels as 3 (rows of 36 bytes span chunk edges).</summary>
    private const int ChunkBytes = 4096, ExpectedChunks = 3;

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

        // The dataset in chunks (docs/DATASETS.md): declare, PUT each chunk, finalize, then name it by id.
        var dataset = Dataset();
        var created = await client.V1.Datasets.PostAsync(new Generated.CreateDatasetRequest
        {
            Name = "kiota-flow", Format = "f32", FeaturesPerSample = InputSize, TargetsPerSample = 1, TotalBytes = dataset.Length,
            ChunkBytes = ChunkBytes, Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(dataset)),
        });
        var datasetId = created!.DatasetId!;
        Assert.Equal(ExpectedChunks, created.ChunkCount);
        for (var index = 0; index < created.ChunkCount; index++)
        {
            var chunk = dataset.AsMemory()[(index * ChunkBytes)..Math.Min((index + 1) * ChunkBytes, dataset.Length)];
            var chunkStored = await client.V1.Datasets[datasetId].Chunks[index].PutAsync(new MemoryStream(chunk.ToArray()));
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(chunk.Span)), chunkStored!.BlobId);
            Assert.Equal(ExpectedChunks - 1 - index, chunkStored.ChunksMissing);
        }
        var finalized = await client.V1.Datasets[datasetId].Finalize.PostAsync();
        Assert.Equal("ready", finalized!.State);
        Assert.Equal((long)Samples, finalized.Facts!.Rows);

        var spec = new Generated.JobSpec
        {
            Kind = Generated.WorkloadKind.Train,
            Model = new Generated.ModelSpec
            {
                Type = Generated.ModelSpec_type.Mlp, InputSize = InputSize, HiddenSizes = [Hidden], OutputSize = 1,
                Activation = Generated.ModelSpec_activation.Relu, Loss = Generated.ModelSpec_loss.Mse,
            },
            Dataset = new Generated.DatasetSpec { DatasetId = datasetId },
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

        var weights = await ResultAsync(client, jobId, Huginn.Client.Generated.V1.Jobs.Item.Result.GetFormatQueryParameterType.F32);
        Assert.Equal(WeightCount * sizeof(float), weights.Length);

        // The same weights as safetensors: named and shaped as PyTorch's nn.Sequential(Linear, ReLU, Linear) holds them.
        var file = await ResultAsync(client, jobId, Huginn.Client.Generated.V1.Jobs.Item.Result.GetFormatQueryParameterType.Safetensors);
        var headerBytes = checked((int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(file));
        Assert.Equal(file.Length, 8 + headerBytes + weights.Length);
        Assert.Equal(SafetensorsShapes, SafetensorsTensorShapes(file.AsSpan(8, headerBytes)));
        Assert.Equal(weights, file[(8 + headerBytes)..]);

        // The pool's own record: the learning rate the client sent, the dataset it uploaded.
        var stored = await fixture.Pool.Grains.GetGrain<IJobGrain>(jobId).GetAsync();
        Assert.Equal(LearningRate, stored!.Spec.LearningRate);
        Assert.Equal(datasetId, stored.Spec.Dataset.DatasetId);
    }

    private static async Task<byte[]> ResultAsync(HuginnApiClient client, string jobId, Huginn.Client.Generated.V1.Jobs.Item.Result.GetFormatQueryParameterType format)
    {
        await using var result = await client.V1.Jobs[jobId].Result.GetAsync(c => c.QueryParameters.Format = format);
        using var bytes = new MemoryStream();
        await result!.CopyToAsync(bytes);
        return bytes.ToArray();
    }

    /// <summary>Tensor name → shape, from a safetensors JSON header (its <c>__metadata__</c> left out), sorted by name.</summary>
    private static string SafetensorsTensorShapes(ReadOnlySpan<byte> header) =>
        string.Join("; ", JsonDocument.Parse(header.ToArray()).RootElement.EnumerateObject()
            .Where(p => p.Name != "__metadata__")
            .Select(p => $"{p.Name} [{string.Join(", ", p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()))}]")
            .Order(StringComparer.Ordinal));

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
        Assert.Equal(ExpectedChunks, report.GetProperty("datasetChunks").GetInt32());
        Assert.Equal(8 + report.GetProperty("safetensorsHeaderBytes").GetInt32() + WeightCount * sizeof(float), report.GetProperty("safetensorsBytes").GetInt32());
        Assert.Equal(SafetensorsShapes, string.Join("; ", report.GetProperty("tensors").EnumerateObject()
            .Select(p => $"{p.Name} [{string.Join(", ", p.Value.EnumerateArray().Select(d => d.GetInt32()))}]").Order(StringComparer.Ordinal)));
        Assert.True(report.GetProperty("safetensorsHoldsTheF32Result").GetBoolean(), "the safetensors tensors are not the f32 result's bytes");
        var stored = await fixture.Pool.Grains.GetGrain<IJobGrain>(report.GetProperty("jobId").GetString()!).GetAsync();
        Assert.Equal(LearningRate, stored!.Spec.LearningRate);
        Assert.Equal(report.GetProperty("datasetId").GetString(), stored.Spec.Dataset.DatasetId);
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
