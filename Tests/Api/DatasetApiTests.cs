using System.Net;
using System.Net.Http.Json;
using Huginn.Demo;
using Huginn.Workloads;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Huginn.Tests.Api;

/// <summary>A pool whose dataset limits are small enough to reach in a test: chunks of 4 KiB at most, 8 per dataset, 40,000 bytes per account.</summary>
public sealed class SmallDatasetPoolFixture : IAsyncLifetime
{
    public LocalPool Pool { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Datasets:MaxChunkBytes"] = "4096",
            ["Huginn:Datasets:DefaultChunkBytes"] = "1024",
            ["Huginn:Datasets:MaxChunks"] = "8",
            ["Huginn:Datasets:BytesPerAccount"] = "40000",
        }).Build();
        Pool = await LocalPool.StartAsync(settings);
    }

    public async Task DisposeAsync() => await Pool.DisposeAsync();

    public async Task<(PoolClient Client, DatasetUploads Datasets)> ClientAsync(string name = "data-client")
    {
        using var anonymous = new PoolClient(Pool.ApiUrl);
        var account = await anonymous.CreateAccountAsync(name, "client");
        var client = anonymous.As(account.ApiKey);
        await client.BuyAsync(10);
        return (client, new DatasetUploads(Pool.ApiUrl, account.ApiKey));
    }
}

/// <summary>The dataset endpoints: create, chunk upload with resume, finalize, quota and limits, delete, and the data checks of estimate and submit.</summary>
public sealed class DatasetApiTests(SmallDatasetPoolFixture fixture) : IClassFixture<SmallDatasetPoolFixture>
{
    private static ModelSpec Classifier(int features, int classes) =>
        new() { Type = ModelSpec.Mlp, InputSize = features, HiddenSizes = [8], OutputSize = classes, Loss = ModelSpec.CrossEntropy };

    private static JobSpec Train(string datasetId, ModelSpec model) => new()
    {
        Kind = WorkloadKind.Train, Model = model, Dataset = new DatasetSpec { DatasetId = datasetId },
        Rounds = 1, ShardsPerRound = 2, LocalSteps = 2, BatchSize = 8, Seed = 3,
    };

    [Fact]
    public async Task Chunks_arrive_in_any_order_an_interrupted_upload_resumes_from_what_is_missing_and_finalize_records_the_facts()
    {
        var (_, datasets) = await fixture.ClientAsync();
        using var _ = datasets;
        // 100 rows of 3 features + 1 label = 1,600 bytes in chunks of 600: rows of 16 bytes span chunk boundaries.
        var file = DatasetUploads.ClassRows(100, 3, classes: 5);
        var created = await datasets.CreateAsync(new { name = "five classes", format = "f32", featuresPerSample = 3, totalBytes = file.Length, chunkBytes = 600 });
        Assert.Equal(3, created.ChunkCount);
        Assert.Equal(4096, created.MaxChunkBytes);
        Assert.Equal("uploading", created.State);
        Assert.Equal(1, created.TargetsPerSample);

        await datasets.PutChunkAsync(created.DatasetId, 2, file.AsMemory(1200));
        await datasets.PutChunkAsync(created.DatasetId, 0, file.AsMemory(0, 600));
        // "Interrupted" here: the client asks what arrived, and uploads only what is missing.
        var halfway = await datasets.GetAsync(created.DatasetId);
        Assert.Equal([1], halfway.MissingChunks);
        Assert.Equal(2, halfway.ChunksReceived);
        using var early = await datasets.FinalizeRawAsync(created.DatasetId);
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Contains("1 of 3 chunks are missing: 1;", await early.Content.ReadAsStringAsync());

        await datasets.PutChunkAsync(created.DatasetId, 1, file.AsMemory(600, 600));
        // A retry of a chunk that arrived is answered like the first time.
        var again = await datasets.PutChunkAsync(created.DatasetId, 0, file.AsMemory(0, 600));
        Assert.Equal(0, again.ChunksMissing);
        var ready = await datasets.FinalizeAsync(created.DatasetId);

        Assert.Equal("ready", ready.State);
        Assert.Equal(100, ready.Facts!.Rows);
        Assert.Equal(0, ready.Facts.TargetMin);
        Assert.Equal(4, ready.Facts.TargetMax);
        Assert.True(ready.Facts.TargetsAreIntegers);
        var list = await datasets.Http.GetFromJsonAsync<Huginn.Api.Apis.DatasetListResponse>("v1/datasets");
        Assert.Equal([created.DatasetId], list!.Datasets.Select(d => d.DatasetId));
        // Finalized datasets do not change.
        using var late = await datasets.PutChunkRawAsync(created.DatasetId, 1, file.AsMemory(0, 600));
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [Fact]
    public async Task A_chunk_of_the_wrong_size_or_other_bytes_at_a_taken_index_is_refused_by_name()
    {
        var (_, datasets) = await fixture.ClientAsync();
        using var _ = datasets;
        var file = DatasetUploads.ClassRows(64, 3, classes: 2);
        var created = await datasets.CreateAsync(new { format = "f32", featuresPerSample = 3, totalBytes = file.Length, chunkBytes = 512 });

        using var short_ = await datasets.PutChunkRawAsync(created.DatasetId, 0, file.AsMemory(0, 500));
        Assert.Equal(HttpStatusCode.BadRequest, short_.StatusCode);
        Assert.Contains("chunk 0 of 2 must hold exactly 512 bytes", await short_.Content.ReadAsStringAsync());
        using var outOfRange = await datasets.PutChunkRawAsync(created.DatasetId, 2, file.AsMemory(0, 512));
        Assert.Equal(HttpStatusCode.BadRequest, outOfRange.StatusCode);
        Assert.Contains("must be 0 to 1", await outOfRange.Content.ReadAsStringAsync());

        await datasets.PutChunkAsync(created.DatasetId, 0, file.AsMemory(0, 512));
        using var other = await datasets.PutChunkRawAsync(created.DatasetId, 0, file.AsMemory(512, 512));
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Contains("chunk 0 holds other bytes already", await other.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Declarations_past_the_limits_are_refused_naming_the_field_and_the_setting()
    {
        var (_, datasets) = await fixture.ClientAsync();
        using var _ = datasets;

        async Task<string> RefusedAsync(object request, HttpStatusCode status)
        {
            using var response = await datasets.CreateRawAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {body}");
            return body;
        }

        Assert.Contains("Huginn:Datasets:MaxChunkBytes", await RefusedAsync(new { format = "f32", featuresPerSample = 3, totalBytes = 1600, chunkBytes = 5000 }, HttpStatusCode.BadRequest));
        Assert.Contains("a dataset has at most 8 (Huginn:Datasets:MaxChunks)", await RefusedAsync(new { format = "f32", featuresPerSample = 3, totalBytes = 16_000, chunkBytes = 1600 }, HttpStatusCode.BadRequest));
        Assert.Contains("1601 bytes is not a whole number of rows of 4 float32 (3 features + 1 target) = 16 bytes",
            await RefusedAsync(new { format = "f32", featuresPerSample = 3, totalBytes = 1601 }, HttpStatusCode.BadRequest));
        Assert.Contains("\"featuresPerSample\"", await RefusedAsync(new { format = "f32", totalBytes = 1600 }, HttpStatusCode.BadRequest));
        Assert.Contains("\"format\"", await RefusedAsync(new { format = "f64", featuresPerSample = 3, totalBytes = 1600 }, HttpStatusCode.BadRequest));
        Assert.Contains("\"targetsPerSample\"", await RefusedAsync(new { format = "f32-features", featuresPerSample = 3, targetsPerSample = 1, totalBytes = 1200 }, HttpStatusCode.BadRequest));
        Assert.Contains("\"featuresPerSample\"", await RefusedAsync(new { format = "u16", featuresPerSample = 3, totalBytes = 1200 }, HttpStatusCode.BadRequest));

        // 32,768 declared, then 8,192 more would pass the 40,000-byte quota: refused before a byte is sent.
        var big = await datasets.CreateAsync(new { format = "u16", totalBytes = 32_768, chunkBytes = 4096 });
        Assert.Contains("Huginn:Datasets:BytesPerAccount", await RefusedAsync(new { format = "u16", totalBytes = 8192, chunkBytes = 4096 }, (HttpStatusCode)429));
        // Deleting gives the bytes back.
        using var deleted = await datasets.Http.DeleteAsync($"v1/datasets/{big.DatasetId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await datasets.CreateAsync(new { format = "u16", totalBytes = 8192, chunkBytes = 4096 });
    }

    [Fact]
    public async Task Deleted_dataset_is_gone_and_another_account_never_sees_one()
    {
        var (client, datasets) = await fixture.ClientAsync("owner");
        var (strangerClient, stranger) = await fixture.ClientAsync("stranger");
        using var _ = datasets;
        using var __ = stranger;
        var ready = await datasets.UploadF32Async(DatasetUploads.ClassRows(40, 3, classes: 2), 3, 1);

        using var theirs = await stranger.GetRawAsync(ready.DatasetId);
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        using var theirDelete = await stranger.Http.DeleteAsync($"v1/datasets/{ready.DatasetId}");
        Assert.Equal(HttpStatusCode.NotFound, theirDelete.StatusCode);
        var strangerSubmit = await Assert.ThrowsAsync<HttpRequestException>(() =>
            strangerClient.SubmitAsync(Train(ready.DatasetId, Classifier(3, 2))));
        Assert.Contains("no dataset of yours with this id", strangerSubmit.Message);

        using var deleted = await datasets.Http.DeleteAsync($"v1/datasets/{ready.DatasetId}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await datasets.GetRawAsync(ready.DatasetId);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.SubmitAsync(Train(ready.DatasetId, Classifier(3, 2))));
        Assert.Contains("no dataset of yours with this id", refused.Message);
    }

    [Fact]
    public async Task A_label_past_outputSize_is_refused_by_estimate_and_submit_naming_the_field_and_the_label()
    {
        var (client, datasets) = await fixture.ClientAsync();
        using var _ = datasets;
        // Labels 0 … 9, as Fashion-MNIST's; the model says 9 classes.
        var ready = await datasets.UploadF32Async(DatasetUploads.ClassRows(50, 4, classes: 10), 4, 1);
        var spec = Train(ready.DatasetId, Classifier(4, 9));

        using var estimate = await datasets.Http.PostAsJsonAsync("v1/estimates", spec, System.Text.Json.JsonSerializerOptions.Web);
        var estimateBody = await estimate.Content.ReadAsStringAsync();
        var submitted = await Assert.ThrowsAsync<HttpRequestException>(() => client.SubmitAsync(spec));

        const string reason = "is 9, so cross_entropy takes classes 0 to 8; the dataset's labels reach 9: outputSize must be at least 10";
        Assert.Equal(HttpStatusCode.BadRequest, estimate.StatusCode);
        Assert.Contains("\"model.outputSize\"", estimateBody);
        Assert.Contains(reason, estimateBody);
        Assert.StartsWith("400 ", submitted.Message);
        Assert.Contains(reason, submitted.Message);

        // Ten classes fit: the data checks pass (whatever the pool then says about devices).
        using var fits = await datasets.Http.PostAsJsonAsync("v1/estimates", spec with { Model = Classifier(4, 10) }, System.Text.Json.JsonSerializerOptions.Web);
        Assert.DoesNotContain("model.outputSize", await fits.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Data_checks_refuse_features_only_rows_for_training_too_many_samples_and_an_unfinished_upload()
    {
        var (client, datasets) = await fixture.ClientAsync();
        using var _ = datasets;
        var features = await datasets.UploadF32Async(DatasetUploads.ClassRows(30, 4, classes: null), 4, null, format: "f32-features");
        var labeled = await datasets.UploadF32Async(DatasetUploads.ClassRows(30, 4, classes: 3), 4, 1);
        var unfinished = await datasets.CreateAsync(new { format = "f32", featuresPerSample = 4, totalBytes = 200 });

        var noTargets = await Assert.ThrowsAsync<HttpRequestException>(() => client.SubmitAsync(Train(features.DatasetId, Classifier(4, 3))));
        var tooMany = await Assert.ThrowsAsync<HttpRequestException>(() => client.SubmitAsync(Train(labeled.DatasetId, Classifier(4, 3)) with
        {
            Dataset = new DatasetSpec { DatasetId = labeled.DatasetId, Samples = 31 },
        }));
        var wrongWidth = await Assert.ThrowsAsync<HttpRequestException>(() => client.SubmitAsync(Train(labeled.DatasetId, Classifier(5, 3))));
        var notReady = await Assert.ThrowsAsync<HttpRequestException>(() => client.SubmitAsync(Train(unfinished.DatasetId, Classifier(4, 3))));

        Assert.Contains("features only, no targets): it can feed infer or prep, not train", noTargets.Message);
        Assert.Contains("asks for 31 samples; the dataset holds 30", tooMany.Message);
        Assert.Contains("holds rows of 4 features; this model reads 5 per sample", wrongWidth.Message);
        Assert.Contains("is not finalized (1 of 1 chunks missing)", notReady.Message);
    }

    [Fact]
    public async Task Finalize_refuses_chunks_that_do_not_put_together_the_declared_file()
    {
        var (_, datasets) = await fixture.ClientAsync();
        using var _ = datasets;
        var file = DatasetUploads.ClassRows(64, 3, classes: 2);
        var other = DatasetUploads.ClassRows(64, 3, classes: 2, labelOffset: 1);
        var created = await datasets.CreateAsync(new
        {
            format = "f32", featuresPerSample = 3, totalBytes = file.Length, chunkBytes = 512,
            sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(file)),
        });
        await datasets.PutChunkAsync(created.DatasetId, 0, file.AsMemory(0, 512));
        await datasets.PutChunkAsync(created.DatasetId, 1, other.AsMemory(512));

        using var refused = await datasets.FinalizeRawAsync(created.DatasetId);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("a chunk came from another file", await refused.Content.ReadAsStringAsync());
        Assert.Equal("uploading", (await datasets.GetAsync(created.DatasetId)).State);
    }

    [Fact]
    public async Task A_datasets_chunks_stay_stored_while_it_exists_and_are_collected_after_it_is_deleted()
    {
        var (_, datasets) = await fixture.ClientAsync();
        using var _ = datasets;
        // Bytes no other test stores (chunks are content-addressed: the same bytes elsewhere would be held elsewhere).
        var file = DatasetUploads.ClassRows(48, 3, classes: 2, labelOffset: 7);
        var ready = await datasets.UploadF32Async(file, 3, 1, chunkBytes: 512);
        var chunkIds = new[] { file[..512], file[512..] }.Select(c => Huginn.Workloads.Digest.Sha256Hex(c)).ToArray();
        var store = fixture.Pool.Services.GetRequiredService<Huginn.Blobs.IBlobStore>();
        var aYearOn = DateTimeOffset.UtcNow + TimeSpan.FromDays(365);

        await store.CollectAsync(aYearOn, TimeSpan.FromHours(1));
        var lengths = await Task.WhenAll(chunkIds.Select(async id => await store.GetLengthAsync(id) ?? -1));
        Assert.Equal(new long[] { 512, 256 }, lengths);

        (await datasets.Http.DeleteAsync($"v1/datasets/{ready.DatasetId}")).Dispose();
        await store.CollectAsync(aYearOn, TimeSpan.FromHours(1));
        foreach (var id in chunkIds) Assert.Null(await store.GetLengthAsync(id));
    }
}
