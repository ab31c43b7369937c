using System.Net;
using System.Net.Http.Headers;
using Huginn.Demo;
using Huginn.Protocol;
using Huginn.Tests.Pool;
using Huginn.Workloads;

namespace Huginn.Tests.Api;

/// <summary>Jobs on chunked datasets through real workers: one dataset of any size in one job, and each shard reading only its chunks.</summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class DatasetTrainingTests(ApiPoolFixture fixture)
{
    private static async Task<Huginn.Api.Apis.JobResponse> FinishedAsync(PoolClient client, string jobId) =>
        await Eventually.UntilAsync(() => client.JobAsync(jobId), j => j.State is "completed" or "failed" or "cancelled",
            $"job {jobId} finishing", TimeSpan.FromSeconds(180));

    private static string[] ChunkIds(byte[] file, long chunkBytes) =>
        Enumerable.Range(0, (int)((file.Length + chunkBytes - 1) / chunkBytes))
            .Select(i => Digest.Sha256Hex(file.AsSpan((int)(i * chunkBytes), (int)Math.Min(chunkBytes, file.Length - i * chunkBytes)).ToArray()))
            .ToArray();

    /// <summary>
    /// Issue 13's "done when": Fashion-MNIST's training set as f32 rows (60,000 × (784 features + 1 label) = 188,400,000
    /// bytes, three times the blob cap that made the user split it) is ONE dataset, trained by ONE job.
    /// </summary>
    [Fact]
    public async Task A_Fashion_MNIST_sized_dataset_trains_as_one_dataset_in_one_job()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("mnist-a");
        await workers.StartAsync("mnist-b");
        using var client = await fixture.ClientWithHuAsync(5);
        using var datasets = new DatasetUploads(fixture.Pool.ApiUrl, client.ApiKey!);
        var file = DatasetUploads.ClassRows(60_000, 784, classes: 10);
        Assert.Equal(188_400_000, file.Length);

        var ready = await datasets.UploadF32Async(file, 784, 1);
        Assert.Equal(60_000, ready.Facts!.Rows);
        Assert.Equal(9, ready.Facts.TargetMax);
        Assert.True(ready.ChunkCount > 1, "the dataset should be more than one chunk");
        var model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 784, HiddenSizes = [16], OutputSize = 10, Loss = ModelSpec.CrossEntropy };
        var submitted = await client.SubmitAsync(new JobSpec
        {
            Kind = WorkloadKind.Train, Model = model, Dataset = new DatasetSpec { DatasetId = ready.DatasetId },
            Rounds = 1, ShardsPerRound = 3, LocalSteps = 2, BatchSize = 32, LearningRate = 0.05f, Seed = 5,
        });
        var job = await FinishedAsync(client, submitted.JobId);

        Assert.True(job.State == "completed", $"{job.State}: {job.FailureReason}; {string.Join(" | ", workers.Log.TakeLast(10))}");
        Assert.Equal(3, job.Progress.ShardsDone);
        Assert.Equal(4 * (784 * 16 + 16 + 16 * 10 + 10), (await client.ResultAsync(submitted.JobId)).Length);
        // Each chunk crossed to a worker at most once, however many of its shards (and audits) read it.
        var chunks = ChunkIds(file, ready.ChunkBytes).ToHashSet();
        foreach (var agent in workers.Agents)
        {
            var fetched = agent.BlobDownloads.Where(chunks.Contains).ToList();
            Assert.Equal(fetched.Count, fetched.Distinct().Count());
        }
        await fixture.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Workers_fetch_only_the_chunks_their_slices_lie_in_each_once()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("chunks-a");
        await workers.StartAsync("chunks-b");
        using var client = await fixture.ClientWithHuAsync(1);
        using var datasets = new DatasetUploads(fixture.Pool.ApiUrl, client.ApiKey!);
        // 800 rows of 4 features + 1 label (20 bytes) in chunks of 2,000 bytes: 8 chunks of 100 rows each.
        var file = DatasetUploads.ClassRows(800, 4, classes: 3);
        var ready = await datasets.UploadF32Async(file, 4, 1, chunkBytes: 2000);
        var chunks = ChunkIds(file, 2000);
        Assert.Equal(8, ready.ChunkCount);

        // The job reads the first 200 samples: two shards of 100 rows, chunks 0 and 1; two rounds read them again.
        var submitted = await client.SubmitAsync(new JobSpec
        {
            Kind = WorkloadKind.Train,
            Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 4, HiddenSizes = [8], OutputSize = 3, Loss = ModelSpec.CrossEntropy },
            Dataset = new DatasetSpec { DatasetId = ready.DatasetId, Samples = 200 },
            Rounds = 2, ShardsPerRound = 2, LocalSteps = 5, BatchSize = 16, Seed = 9,
        });
        var job = await FinishedAsync(client, submitted.JobId);

        Assert.True(job.State == "completed", $"{job.State}: {job.FailureReason}");
        var fetched = workers.Agents.Select(a => a.BlobDownloads.Where(chunks.Contains).ToList()).ToList();
        Assert.All(fetched, f => Assert.Equal(f.Count, f.Distinct().Count()));
        Assert.Subset(chunks[..2].ToHashSet(), fetched.SelectMany(f => f).ToHashSet());
        Assert.Equal(chunks[..2].ToHashSet(), fetched.SelectMany(f => f).ToHashSet());
    }

    [Fact]
    public async Task A_device_may_read_the_chunks_its_lease_names_and_no_other_chunk_of_the_dataset()
    {
        // A second owner's device, because verification needs two owners online.
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("chunk-peer");
        var (owner, deviceId, token) = await fixture.DeviceAsync("chunk-reader");
        using var client = await fixture.ClientWithHuAsync(1);
        using var datasets = new DatasetUploads(fixture.Pool.ApiUrl, client.ApiKey!);
        var file = DatasetUploads.ClassRows(800, 4, classes: 3);
        var ready = await datasets.UploadF32Async(file, 4, 1, chunkBytes: 2000);
        var chunks = ChunkIds(file, 2000);

        using var socket = await fixture.ConnectRawAsync(token);
        var frames = new FrameSocket(socket, Frame.DefaultMaxFrameBytes);
        await frames.SendAsync(new HelloMessage(Frame.Version, null, "test"), CancellationToken.None);
        await Eventually.UntilAsync(() => owner.DeviceAsync(deviceId), d => d.Status == "online", "the raw device coming online");
        var submitted = await client.SubmitAsync(new JobSpec
        {
            Kind = WorkloadKind.Train,
            Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 4, HiddenSizes = [8], OutputSize = 3, Loss = ModelSpec.CrossEntropy },
            Dataset = new DatasetSpec { DatasetId = ready.DatasetId, Samples = 400 },
            Rounds = 1, ShardsPerRound = 4, LocalSteps = 5, BatchSize = 16, Seed = 9,
        });
        AssignMessage? assign = null;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (assign is null)
            {
                var frame = await frames.ReceiveAsync(timeout.Token);
                Assert.NotNull(frame);
                Assert.True(Frame.TryDecode(frame, out var message, out _, out _));
                assign = message as AssignMessage;
            }
        }

        // Shard k of 100 rows lies in chunk k exactly; the lease names it and nothing else of the dataset.
        var shardChunks = assign.DatasetChunks!;
        Assert.Equal(assign.Shard.Index, shardChunks.FirstChunk);
        Assert.Equal([chunks[assign.Shard.Index]], shardChunks.ChunkIds);
        using var device = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        device.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var own = await device.GetAsync($"v1/blobs/{shardChunks.ChunkIds[0]}");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(file.AsSpan(assign.Shard.Index * 2000, 2000).ToArray(), await own.Content.ReadAsByteArrayAsync());
        using var other = await device.GetAsync($"v1/blobs/{chunks[7]}");
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);

        (await datasets.Http.DeleteAsync($"v1/jobs/{submitted.JobId}")).Dispose();
        socket.Abort();
    }

    [Fact]
    public async Task A_u16_token_stream_trains_a_transformer_to_predict_the_next_token()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("tokens-a");
        await workers.StartAsync("tokens-b");
        using var client = await fixture.ClientWithHuAsync(1);
        using var datasets = new DatasetUploads(fixture.Pool.ApiUrl, client.ApiKey!);
        // 1,601 tokens of a fixed walk through 32 ids: 200 windows of 8, each followed by its next token.
        var tokens = new byte[1601 * 2];
        for (int i = 0, t = 1; i < 1601; i++, t = (t * 5 + 3) % 32) BitConverter.TryWriteBytes(tokens.AsSpan(i * 2), (ushort)t);
        var dataset = await datasets.CreateAsync(new { name = "walk", format = "u16", totalBytes = tokens.Length, chunkBytes = 1000 });
        await datasets.UploadAllAsync(dataset, tokens);
        var ready = await datasets.FinalizeAsync(dataset.DatasetId);
        Assert.Equal(1601, ready.Facts!.Rows);
        Assert.Equal(31, ready.Facts.TargetMax);

        var model = new ModelSpec
        {
            Type = ModelSpec.Transformer, VocabSize = 32, SequenceLength = 8, ModelDim = 16, Heads = 2, Layers = 1, FeedForwardDim = 32,
            OutputSize = 32, Loss = ModelSpec.CrossEntropy,
        };
        var spec = new JobSpec
        {
            Kind = WorkloadKind.Train, Model = model, Dataset = new DatasetSpec { DatasetId = ready.DatasetId },
            Rounds = 2, ShardsPerRound = 2, LocalSteps = 5, BatchSize = 8, LearningRate = 0.05f, Seed = 4,
        };
        // vocabSize below the largest id is refused before anything runs.
        var small = await Assert.ThrowsAsync<HttpRequestException>(() => client.SubmitAsync(spec with { Model = model with { VocabSize = 31, OutputSize = 31 } }));
        Assert.Contains("the dataset holds token id 31: vocabSize must be at least 32", small.Message);

        var submitted = await client.SubmitAsync(spec);
        var job = await FinishedAsync(client, submitted.JobId);

        Assert.True(job.State == "completed", $"{job.State}: {job.FailureReason}; {string.Join(" | ", workers.Log.TakeLast(10))}");
        Assert.Equal(4, job.Progress.ShardsDone);
        Assert.Equal(2, job.Metrics.Loss.Length);
    }

    [Fact]
    public async Task Inference_input_needs_no_label_column_as_a_dataset_or_as_a_blob()
    {
        await using var workers = new RunningWorkers(fixture);
        await workers.StartAsync("infer-a");
        await workers.StartAsync("infer-b");
        using var client = await fixture.ClientWithHuAsync(1);
        using var datasets = new DatasetUploads(fixture.Pool.ApiUrl, client.ApiKey!);
        var features = DatasetUploads.ClassRows(40, 4, classes: null);
        var ready = await datasets.UploadF32Async(features, 4, null, chunkBytes: 160, format: "f32-features");
        var model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 4, HiddenSizes = [8], OutputSize = 3 };
        var infer = new JobSpec { Kind = WorkloadKind.Infer, Model = model, Dataset = new DatasetSpec { DatasetId = ready.DatasetId }, ShardsPerRound = 2, Seed = 2 };

        var fromDataset = await client.SubmitAsync(infer);
        var blobId = await client.UploadAsync(features);
        var fromBlob = await client.SubmitAsync(infer with { Dataset = new DatasetSpec { BlobId = blobId, Samples = 40, Format = "f32-features" } });
        // The old mistake: features-only bytes named as "f32" rows. The refusal says what a row was expected to be.
        var mislabeled = await Assert.ThrowsAsync<HttpRequestException>(() =>
            client.SubmitAsync(infer with { Dataset = new DatasetSpec { BlobId = blobId, Samples = 40 } }));

        Assert.Contains("rows of 7 float32 (4 features + 3 targets) = 28 bytes", mislabeled.Message);
        Assert.Contains("inference input without a target column is format", mislabeled.Message);
        foreach (var jobId in new[] { fromDataset.JobId, fromBlob.JobId })
        {
            var job = await FinishedAsync(client, jobId);
            Assert.True(job.State == "completed", $"{job.State}: {job.FailureReason}");
            Assert.Equal(40 * 3 * 4, (await client.ResultAsync(jobId)).Length);
        }
        // The same inputs give the same outputs, from a dataset or a blob (within float rounding: devices differ in the last bits).
        var a = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(await client.ResultAsync(fromDataset.JobId)).ToArray();
        var b = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(await client.ResultAsync(fromBlob.JobId)).ToArray();
        Assert.All(a.Zip(b), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-5 * Math.Max(1, Math.Abs(p.First)), $"{p.First} vs {p.Second}"));
    }
}
