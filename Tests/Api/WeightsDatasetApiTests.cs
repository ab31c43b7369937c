using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Huginn.Api.Apis;
using Huginn.Protocol;
using Huginn.Tests.Pool;
using Huginn.Tests.Workloads;
using Huginn.Workloads;

namespace Huginn.Tests.Api;

/// <summary>
/// Issue 13 item 2, <c>spec.weights.datasetId</c>: a safetensors file uploaded as a chunked dataset of format
/// "safetensors" seeds training and inference exactly as the same file uploaded as one blob does; what does not fit is
/// refused at estimate and submission naming the field.
/// </summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class WeightsDatasetApiTests(ApiPoolFixture fixture)
{
    private async Task<(HttpClient Http, DatasetUploads Datasets)> ClientAsync()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        var created = await (await anonymous.PostAsJsonAsync("v1/accounts", new { name = "weights-dataset-test", role = "client" })).Content.ReadFromJsonAsync<CreateAccountResponse>(Frame.Json);
        var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created!.ApiKey);
        (await http.PostAsJsonAsync("v1/accounts/me/credits", new { hu = 1m })).EnsureSuccessStatusCode();
        return (http, new DatasetUploads(fixture.Pool.ApiUrl, created.ApiKey));
    }

    private static Task<HttpResponseMessage> PostSpecAsync(HttpClient http, string path, JobSpec spec) =>
        http.PostAsync(path, JsonContent.Create(path == "v1/jobs" ? new { spec } : (object)spec, options: Frame.Json));

    private static async Task<JsonElement> ErrorsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("errors");
    }

    /// <summary>Uploads <paramref name="file"/> as a "safetensors" dataset in chunks of <paramref name="chunkBytes"/> and finalizes it.</summary>
    private static async Task<DatasetResponse> UploadWeightsAsync(DatasetUploads datasets, byte[] file, long chunkBytes, bool finalize = true)
    {
        var dataset = await datasets.CreateAsync(new { name = "weights", format = "safetensors", totalBytes = file.LongLength, chunkBytes });
        await datasets.UploadAllAsync(dataset, file);
        return finalize ? await datasets.FinalizeAsync(dataset.DatasetId) : dataset;
    }

    private static async Task<JobResponse> RunAsync(HttpClient http, JobSpec spec, RunningWorkers workers)
    {
        var response = await PostSpecAsync(http, "v1/jobs", spec);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var jobId = (await response.Content.ReadFromJsonAsync<SubmitJobResponse>(Frame.Json))!.JobId;
        try
        {
            var job = (await Eventually.UntilAsync(() => http.GetFromJsonAsync<JobResponse>($"v1/jobs/{jobId}", Frame.Json), j => j!.State is "completed" or "failed", $"job {jobId} finishing"))!;
            Assert.Equal("completed", job.State);
            return job;
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nworkers:\n{string.Join("\n", workers.Log)}");
        }
    }

    private static float[] RandomWeights(ModelSpec model, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, (int)ModelRegistry.Get(model.Type).ParameterCount(model)).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
    }

    /// <summary>
    /// The file as an independent writer (Python, struct and json) stores it: tensors sorted by name (0.bias before
    /// 0.weight), not in the model's layout order, so converting it seeks back across chunks, which a sequential read
    /// would get wrong.
    /// </summary>
    private static byte[] NameOrderedFile(ModelSpec model, float[] weights)
    {
        var tensors = new List<object>();
        var offset = 0;
        foreach (var (name, tensor) in SafetensorsFormat.PyTorchLayout(model))
        {
            tensors.Add(new { name, shape = tensor.Shape, values = weights[offset..(offset + (int)tensor.Size)] });
            offset += (int)tensor.Size;
        }
        var directory = Directory.CreateTempSubdirectory("huginn-wd-");
        try
        {
            var path = Path.Combine(directory.FullName, "by-name.safetensors");
            SafetensorsFormatTests.Python("write", path, JsonSerializer.Serialize(new { tensors, metadata = new { format = "pt" } }));
            var file = File.ReadAllBytes(path);
            var stored = SafetensorsFormat.ReadHeader(file).Tensors;
            Assert.Equal("0.bias", stored.OrderBy(t => t.Begin).First().Name);
            return file;
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_safetensors_file_uploaded_as_a_chunked_dataset_seeds_training_and_inference_like_the_same_file_as_a_blob()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("wd-a");
        await workers.StartAsync("wd-b");
        var (http, datasets) = await ClientAsync();
        using var _ = http;
        using var __ = datasets;
        var model = EdgeSpecs.Training(1, 1).Model!;
        var weights = RandomWeights(model, 17);
        var file = NameOrderedFile(model, weights);
        var blobId = (await (await http.PostAsync("v1/blobs", new ByteArrayContent(file))).Content.ReadFromJsonAsync<BlobCreatedResponse>(Frame.Json))!.BlobId;
        // Chunks smaller than the header: the header, and tensors, span chunk boundaries.
        var dataset = await UploadWeightsAsync(datasets, file, chunkBytes: 97);
        Assert.True(dataset.ChunkCount >= 5, $"{dataset.ChunkCount} chunks");
        Assert.Equal("ready", dataset.State);
        Assert.Null(dataset.FeaturesPerSample);
        Assert.Equal(SafetensorsFormat.ReadHeader(file).Tensors.Count, dataset.Facts!.Rows);

        var infer = new JobSpec
        {
            Kind = WorkloadKind.Infer, Model = model, ShardsPerRound = 2,
            Dataset = new DatasetSpec { Synthetic = new SyntheticDatasetSpec { Samples = 64, Seed = 5 } },
        };
        var fromDataset = await RunAsync(http, infer with { Weights = new WeightsSpec { DatasetId = dataset.DatasetId } }, workers);
        var fromBlob = await RunAsync(http, infer with { Weights = new WeightsSpec { SafetensorsBlobId = blobId } }, workers);
        var outputs = await http.GetByteArrayAsync($"v1/jobs/{fromDataset.JobId}/result");
        Assert.Equal(await http.GetByteArrayAsync($"v1/jobs/{fromBlob.JobId}/result"), outputs);
        // And they are the outputs of these weights, not of some others both paths agree on.
        var expected = ReferenceExecutor.Execute(infer, JobPlanner.Plan(infer).Shard(0, 0) with { SampleOffset = 0, SampleCount = 64 }, weights,
            SyntheticData.Generate(infer.Dataset.Synthetic!, model, 0, 64)).Values;
        Assert.True(TensorComparison.RelativeL2(expected, WeightsFormat.FromBytes(outputs)) < 1e-5);

        var train = EdgeSpecs.Training(rounds: 1, shards: 2);
        var trainedFromDataset = await RunAsync(http, train with { Weights = new WeightsSpec { DatasetId = dataset.DatasetId } }, workers);
        var trainedFromBlob = await RunAsync(http, train with { Weights = new WeightsSpec { SafetensorsBlobId = blobId } }, workers);
        var a = WeightsFormat.FromBytes(await http.GetByteArrayAsync($"v1/jobs/{trainedFromDataset.JobId}/result"));
        var b = WeightsFormat.FromBytes(await http.GetByteArrayAsync($"v1/jobs/{trainedFromBlob.JobId}/result"));
        Assert.True(TensorComparison.RelativeL2(b, a) < 1e-6, $"relative L2 {TensorComparison.RelativeL2(b, a)}");
        Assert.True(TensorComparison.RelativeL2(weights, a) > 1e-6, "training moved the weights");
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_weights_dataset_that_does_not_fit_is_refused_at_estimate_and_submission_naming_the_field()
    {
        var (http, datasets) = await ClientAsync();
        using var _ = http;
        using var __ = datasets;
        var spec = EdgeSpecs.Training(rounds: 1, shards: 1);
        var model = spec.Model!;
        WeightsSpec From(string id) => new() { DatasetId = id };

        // Tensors of another shape: named, one error each, at submission (the estimate does not read the file).
        var other = model with { HiddenSizes = [4] };
        var misfit = await UploadWeightsAsync(datasets, SafetensorsFormat.Write(other, new float[ModelRegistry.Get(other.Type).ParameterCount(other)]), chunkBytes: 64);
        Assert.Equal([
            "does not fit the model: 0.weight has shape [4, 8]; this model's is [16, 8]",
            "does not fit the model: 0.bias has shape [4]; this model's is [16]",
            "does not fit the model: 2.weight has shape [1, 4]; this model's is [1, 16]",
        ], (await ErrorsAsync(await PostSpecAsync(http, "v1/jobs", spec with { Weights = From(misfit.DatasetId) }))).GetProperty("weights.datasetId").EnumerateArray().Select(e => e.GetString()));

        var file = SafetensorsFormat.Write(model, RandomWeights(model, 3));
        var unfinished = await UploadWeightsAsync(datasets, file, chunkBytes: 128, finalize: false);
        var samples = await datasets.UploadF32Async(new byte[9 * 4 * 4], features: 8, targets: 1);
        var (otherHttp, otherDatasets) = await ClientAsync();
        using var ___ = otherHttp;
        using var ____ = otherDatasets;
        var theirs = await UploadWeightsAsync(otherDatasets, file, chunkBytes: 128);
        foreach (var path in new[] { "v1/estimates", "v1/jobs" })
        {
            async Task<string> ReasonAsync(string datasetId) =>
                (await ErrorsAsync(await PostSpecAsync(http, path, spec with { Weights = From(datasetId) }))).GetProperty("weights.datasetId")[0].GetString()!;
            Assert.StartsWith("is not finalized (0 of", await ReasonAsync(unfinished.DatasetId));
            Assert.StartsWith("no dataset of yours with this id", await ReasonAsync(theirs.DatasetId));
            Assert.StartsWith("no dataset of yours with this id", await ReasonAsync("ds_nothing"));
            Assert.StartsWith("is an \"f32\" dataset of samples, not weights", await ReasonAsync(samples.DatasetId));
        }

        // A weights dataset is never data, for training or inference, at estimate and submission alike.
        var ready = await datasets.FinalizeAsync(unfinished.DatasetId);
        foreach (var path in new[] { "v1/estimates", "v1/jobs" })
        foreach (var kind in new[] { WorkloadKind.Train, WorkloadKind.Infer })
        {
            var asData = spec with { Kind = kind, Dataset = new DatasetSpec { DatasetId = ready.DatasetId } };
            var errors = await ErrorsAsync(await PostSpecAsync(http, path, asData));
            Assert.StartsWith("is a \"safetensors\" dataset: a model's weights, not samples", errors.GetProperty("dataset.datasetId")[0].GetString());
        }
    }

    [Fact]
    public async Task A_weights_dataset_is_declared_without_rows_and_finalize_checks_its_header()
    {
        var (http, datasets) = await ClientAsync();
        using var _ = http;
        using var __ = datasets;
        var rows = await ErrorsAsync(await datasets.CreateRawAsync(new { name = "w", format = "safetensors", featuresPerSample = 8, totalBytes = 100 }));
        Assert.Equal("a \"safetensors\" weights file has no rows; leave it out", rows.GetProperty("featuresPerSample")[0].GetString());
        var format = await ErrorsAsync(await datasets.CreateRawAsync(new { name = "w", format = "pt", totalBytes = 100 }));
        Assert.Contains("\"safetensors\"", format.GetProperty("format")[0].GetString());

        var garbage = "not a safetensors file, and longer than one chunk"u8.ToArray();
        var dataset = await UploadWeightsAsync(datasets, garbage, chunkBytes: 16, finalize: false);
        var invalid = await ErrorsAsync(await datasets.FinalizeRawAsync(dataset.DatasetId));
        Assert.StartsWith("is \"safetensors\", but the file is not a valid safetensors file: the header length is", invalid.GetProperty("format")[0].GetString());
        Assert.Equal("uploading", (await datasets.GetAsync(dataset.DatasetId)).State);
    }
}
