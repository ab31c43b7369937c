using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Huginn.Api.Apis;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Protocol;
using Huginn.Tests.Pool;
using Huginn.Tests.Workloads;
using Huginn.Workloads;

namespace Huginn.Tests.Api;

/// <summary>Issue 13, items 2 and 3 through the Api and real workers: results as safetensors, weights from safetensors, round checkpoints.</summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class SafetensorsApiTests(ApiPoolFixture fixture)
{
    private HttpClient Http(string? key = null)
    {
        var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private async Task<HttpClient> ClientAsync(decimal hu)
    {
        using var http = Http();
        var created = await (await http.PostAsJsonAsync("v1/accounts", new { name = "safetensors-test", role = "client" })).Content.ReadFromJsonAsync<CreateAccountResponse>(Frame.Json);
        var client = Http(created!.ApiKey);
        (await client.PostAsJsonAsync("v1/accounts/me/credits", new { hu })).EnsureSuccessStatusCode();
        return client;
    }

    private static Task<HttpResponseMessage> SubmitAsync(HttpClient http, JobSpec spec) =>
        http.PostAsync("v1/jobs", JsonContent.Create(new { spec }, options: Frame.Json));

    private static async Task<JobResponse> SubmitAndFinishAsync(HttpClient http, JobSpec spec, RunningWorkers workers)
    {
        var response = await SubmitAsync(http, spec);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var jobId = (await response.Content.ReadFromJsonAsync<SubmitJobResponse>(Frame.Json))!.JobId;
        try
        {
            return (await Eventually.UntilAsync(() => http.GetFromJsonAsync<JobResponse>($"v1/jobs/{jobId}", Frame.Json), j => j!.State is "completed" or "failed", $"job {jobId} finishing"))!;
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nworkers:\n{string.Join("\n", workers.Log)}");
        }
    }

    private static async Task<JsonElement> ErrorsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
    }

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();

    [Fact]
    public async Task Trained_weights_and_every_round_download_as_safetensors_by_pytorch_name()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("st-a");
        await workers.StartAsync("st-b");
        using var http = await ClientAsync(1);
        var spec = EdgeSpecs.Training(rounds: 2, shards: 2, seed: 21);

        var job = await SubmitAndFinishAsync(http, spec, workers);

        Assert.Equal("completed", job.State);
        Assert.Equal(new JobResultSummary(JobResults.Final, 2), job.Result);
        var flat = WeightsFormat.FromBytes(await http.GetByteArrayAsync($"v1/jobs/{job.JobId}/result"));
        using var response = await http.GetAsync($"v1/jobs/{job.JobId}/result?format=safetensors");
        response.EnsureSuccessStatusCode();
        Assert.Equal(JobResults.Final, Header(response, JobResults.CheckpointHeader));
        var file = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(file.Length, response.Content.Headers.ContentLength);
        var header = SafetensorsFormat.ReadHeader(file);
        Assert.Equal(["0.weight [16,8]", "0.bias [16]", "2.weight [1,16]", "2.bias [1]"], header.Tensors.Select(t => $"{t.Name} [{string.Join(",", t.Shape)}]"));
        Assert.Equal(job.JobId, header.Metadata["huginn.jobId"]);
        Assert.Equal("2", header.Metadata["huginn.roundsCompleted"]);
        Assert.Equal(flat, SafetensorsFormat.ReadWeights(file, spec.Model!));

        // Each round's checkpoint: listed, and downloadable in every format; the last one is the result.
        var listed = (await http.GetFromJsonAsync<JobCheckpointsResponse>($"v1/jobs/{job.JobId}/checkpoints", Frame.Json))!;
        var bytes = 4L * flat.Length;
        Assert.Equal([(1, bytes), (2, bytes)], listed.Checkpoints.Select(c => (c.Round, c.Bytes)));
        using var round1 = await http.GetAsync($"v1/jobs/{job.JobId}/result?round=1&format=safetensors");
        round1.EnsureSuccessStatusCode();
        Assert.Equal((JobResults.Round, "1"), (Header(round1, JobResults.CheckpointHeader), Header(round1, "Huginn-Rounds-Completed")));
        var round1Weights = SafetensorsFormat.ReadWeights(await round1.Content.ReadAsByteArrayAsync(), spec.Model!);
        Assert.Equal(round1Weights, WeightsFormat.FromBytes(await http.GetByteArrayAsync($"v1/jobs/{job.JobId}/result?round=1")));
        Assert.NotEqual(flat, round1Weights);
        Assert.Equal(flat, WeightsFormat.FromBytes(await http.GetByteArrayAsync($"v1/jobs/{job.JobId}/result?round=2")));
        using var round3 = await http.GetAsync($"v1/jobs/{job.JobId}/result?round=3");
        Assert.Equal(HttpStatusCode.NotFound, round3.StatusCode);
        Assert.Contains("checkpoints of rounds 1 to 2", await round3.Content.ReadAsStringAsync());
        // Another account sees neither the list nor a round.
        using var stranger = await ClientAsync(1);
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync($"v1/jobs/{job.JobId}/checkpoints")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await stranger.GetAsync($"v1/jobs/{job.JobId}/result?round=1&format=safetensors")).StatusCode);
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Inference_and_training_start_from_a_safetensors_file_written_by_an_independent_writer()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("st-c");
        await workers.StartAsync("st-d");
        using var http = await ClientAsync(1);
        var model = EdgeSpecs.Training(1, 1).Model!;
        var random = new Random(9);
        var weights = Enumerable.Range(0, (int)ModelRegistry.Get(model.Type).ParameterCount(model)).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var tensors = new List<object>();
        var offset = 0;
        foreach (var (name, tensor) in SafetensorsFormat.PyTorchLayout(model))
        {
            tensors.Add(new { name, shape = tensor.Shape, values = weights[offset..(offset + (int)tensor.Size)] });
            offset += (int)tensor.Size;
        }
        var path = Path.Combine(Directory.CreateTempSubdirectory("huginn-st-").FullName, "python.safetensors");
        SafetensorsFormatTests.Python("write", path, JsonSerializer.Serialize(new { tensors, metadata = new { format = "pt" } }));
        var upload = await http.PostAsync("v1/blobs", new ByteArrayContent(await File.ReadAllBytesAsync(path)));
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        var blobId = (await upload.Content.ReadFromJsonAsync<BlobCreatedResponse>(Frame.Json))!.BlobId;

        var infer = new JobSpec
        {
            Kind = WorkloadKind.Infer, Model = model, ShardsPerRound = 2, Weights = new WeightsSpec { SafetensorsBlobId = blobId },
            Dataset = new DatasetSpec { Synthetic = new SyntheticDatasetSpec { Samples = 64, Seed = 5 } },
        };
        var inferred = await SubmitAndFinishAsync(http, infer, workers);
        Assert.Equal("completed", inferred.State);

        // The outputs, as one [samples, outputSize] tensor, are those of the file's weights: read by name, not by position.
        var file = await http.GetByteArrayAsync($"v1/jobs/{inferred.JobId}/result?format=safetensors");
        var outputs = Assert.Single(SafetensorsFormat.ReadHeader(file).Tensors);
        Assert.Equal(SafetensorsFormat.OutputsName, outputs.Name);
        Assert.Equal([64L, 1L], outputs.Shape);
        var data = SyntheticData.Generate(infer.Dataset.Synthetic!, model, 0, 64);
        var expected = ReferenceExecutor.Execute(infer, JobPlanner.Plan(infer).Shard(0, 0) with { SampleOffset = 0, SampleCount = 64 }, weights, data).Values;
        var values = WeightsFormat.FromBytes(file.AsSpan((int)SafetensorsFormat.ReadHeader(file).DataStart));
        Assert.True(TensorComparison.RelativeL2(expected, values) < 1e-5, $"relative L2 {TensorComparison.RelativeL2(expected, values)}");

        var trained = await SubmitAndFinishAsync(http, EdgeSpecs.Training(rounds: 1, shards: 2) with { Weights = new WeightsSpec { SafetensorsBlobId = blobId } }, workers);
        Assert.Equal("completed", trained.State);
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_safetensors_file_that_does_not_fit_the_model_is_refused_naming_its_tensors()
    {
        using var http = await ClientAsync(1);
        var spec = EdgeSpecs.Training(rounds: 1, shards: 1);
        var other = spec.Model! with { HiddenSizes = [4] };
        var wrong = await http.PostAsync("v1/blobs", new ByteArrayContent(SafetensorsFormat.Write(other, new float[ModelRegistry.Get(other.Type).ParameterCount(other)])));
        var wrongId = (await wrong.Content.ReadFromJsonAsync<BlobCreatedResponse>(Frame.Json))!.BlobId;
        var garbage = await http.PostAsync("v1/blobs", new ByteArrayContent("not a safetensors file at all"u8.ToArray()));
        var garbageId = (await garbage.Content.ReadFromJsonAsync<BlobCreatedResponse>(Frame.Json))!.BlobId;

        var misfit = (await ErrorsAsync(await SubmitAsync(http, spec with { Weights = new WeightsSpec { SafetensorsBlobId = wrongId } }))).GetProperty("weights.safetensorsBlobId");
        Assert.Equal([
            "does not fit the model: 0.weight has shape [4, 8]; this model's is [16, 8]",
            "does not fit the model: 0.bias has shape [4]; this model's is [16]",
            "does not fit the model: 2.weight has shape [1, 4]; this model's is [1, 16]",
        ], misfit.EnumerateArray().Select(e => e.GetString()));
        var invalid = (await ErrorsAsync(await SubmitAsync(http, spec with { Weights = new WeightsSpec { SafetensorsBlobId = garbageId } }))).GetProperty("weights.safetensorsBlobId");
        Assert.StartsWith("is not a valid safetensors file: the header length is", invalid[0].GetString());
        var unknown = await ErrorsAsync(await SubmitAsync(http, spec with { Weights = new WeightsSpec { SafetensorsBlobId = new string('0', 64) } }));
        Assert.StartsWith("no blob of yours with this id", unknown.GetProperty("weights.safetensorsBlobId")[0].GetString());
        var both = await ErrorsAsync(await SubmitAsync(http, spec with { WeightsBlobId = wrongId, Weights = new WeightsSpec { F32BlobId = wrongId } }));
        Assert.Equal("give weights or the older weightsBlobId/weightsFromJobId, not both", both.GetProperty("weights")[0].GetString());
        var dataset = await ErrorsAsync(await SubmitAsync(http, spec with { Weights = new WeightsSpec { DatasetId = "ds_1" } }));
        Assert.StartsWith("no dataset of yours with this id", dataset.GetProperty("weights.datasetId")[0].GetString());
    }

    [Fact]
    public void A_stopped_training_job_is_marked_as_giving_its_last_completed_round()
    {
        var spec = EdgeSpecs.Training(rounds: 5, shards: 1);
        var view = new JobView
        {
            JobId = "job_x", OwnerAccountId = "acct", Status = JobStatus.Failed, Progress = new JobProgress(5, 3, 3, 4, 5),
            Estimate = null!, EscrowMicroHu = 0, SpentMicroHu = 0, RefundedMicroHu = 0, RoundLosses = [0.3, 0.2, 0.1],
            CreatedAt = DateTimeOffset.UnixEpoch, DevicesCaught = [], Spec = spec,
        };

        Assert.Equal(new JobResultSummary(JobResults.LastCompletedRound, 3), JobResults.Summarize(view));
        Assert.Equal(new JobResultSummary(JobResults.LastCompletedRound, 3), JobResults.Summarize(view with { Status = JobStatus.Cancelled }));
        Assert.Null(JobResults.Summarize(view with { RoundLosses = [] }));
        Assert.Null(JobResults.Summarize(view with { Status = JobStatus.Running }));
        Assert.Equal(new JobResultSummary(JobResults.Final, 5), JobResults.Summarize(view with { Status = JobStatus.Completed, RoundLosses = [1, 1, 1, 1, 1] }));
    }
}
