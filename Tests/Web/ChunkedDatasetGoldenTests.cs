using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Huginn.Protocol;
using Huginn.Tests.Deploy;
using Huginn.Tests.Workloads;
using Huginn.Workloads;

namespace Huginn.Tests.Web;

/// <summary>
/// Chunked datasets for the browser worker (web/src/executor/datasets.ts, web/src/contribute/chunks.ts):
/// web/test/golden/chunks.json holds, per format, an assign frame made by Protocol/Frame.cs that carries
/// <c>datasetChunks</c>, the bytes of those chunks by id, and the slice C# cuts from them (what the TorchSharp worker's
/// WorkerAgent.LoadDatasetBytesAsync and ShardData.Load give its executor). Chunks are small and rows span their
/// edges on purpose. Set <see cref="WriteVariable"/>=1 to rewrite the file.
/// </summary>
public sealed class ChunkedDatasetGoldenTests
{
    public const string WriteVariable = "HUGINN_WRITE_CHUNK_GOLDENS";

    private static string FilePath => Path.Combine(RepositoryPaths.Root, "web", "test", "golden", "chunks.json");

    private sealed record Case(string Name, WorkloadKind Kind, ModelSpec Model, string Format, byte[] Dataset, long ChunkBytes, long Offset, int Count);

    private static byte[] Floats(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 4 - 2);
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
    }

    private static byte[] Tokens(int count, int width, int vocab, int seed)
    {
        var random = new Random(seed);
        var bytes = new byte[count * width];
        for (var i = 0; i < count; i++)
        {
            var id = (uint)random.Next(vocab);
            if (width == 2) System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)id);
            else System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), id);
        }
        return bytes;
    }

    private static IEnumerable<Case> Cases()
    {
        var mlp = ExampleSpecs.Mlp(); // 4 features, 2 targets under mse
        var transformer = ExampleSpecs.Transformer(); // 16 tokens per sample, vocabulary 100
        // f32 rows of 24 bytes in chunks of 100: samples [10, 22) are bytes [240, 528), chunks 2..5.
        yield return new("f32Train", WorkloadKind.Train, mlp, DatasetFormats.F32, Floats(40 * 6, 1), 100, 10, 12);
        // f32-features rows of 16 bytes (no targets), for inference: samples [7, 16) are bytes [112, 256), chunks 1..2.
        yield return new("f32FeaturesInfer", WorkloadKind.Infer, mlp, DatasetFormats.F32Features, Floats(40 * 4, 2), 100, 7, 9);
        // u16 tokens, training: samples [3, 8) read tokens [48, 129) (the next token is the last target), chunks 1..4.
        yield return new("u16Train", WorkloadKind.Train, transformer, DatasetFormats.U16, Tokens(200, 2, 100, 3), 64, 3, 5);
        // u32 tokens, inference (no target token): samples [2, 6) are bytes [128, 384), chunks 1..3.
        yield return new("u32Infer", WorkloadKind.Infer, transformer, DatasetFormats.U32, Tokens(200, 4, 100, 4), 96, 2, 4);
    }

    private static JsonObject Golden(Case c)
    {
        var chunkIds = new List<string>();
        var chunks = new JsonObject();
        for (long at = 0; at < c.Dataset.Length; at += c.ChunkBytes)
        {
            var chunk = c.Dataset.AsSpan((int)at, (int)Math.Min(c.ChunkBytes, c.Dataset.Length - at)).ToArray();
            var id = Convert.ToHexStringLower(SHA256.HashData(chunk));
            chunkIds.Add(id);
            chunks[id] = Convert.ToBase64String(chunk);
        }
        var spec = new JobSpec
        {
            Kind = c.Kind, Model = c.Model, Seed = 11, ShardsPerRound = 2, LocalSteps = 2, BatchSize = 4,
            Dataset = new DatasetSpec { DatasetId = "ds_golden", Format = c.Format, Samples = 24 },
        };
        var shard = new ShardPlan(0, 1, c.Offset, c.Count, 99, 1000, c.Kind == WorkloadKind.Train ? 2 : 0, 4);
        var list = new DatasetChunkList(c.ChunkBytes, [.. chunkIds], c.Dataset.Length);
        var shardChunks = list.ForShard(spec, shard);
        var deadline = new DateTimeOffset(2026, 11, 27, 22, 0, 0, TimeSpan.Zero);
        var frame = Frame.Encode(new AssignMessage("lease_c", "job_c", spec, shard, null, deadline, 10, shardChunks));

        // What the TorchSharp worker hands its executor: the chunks joined, read from their start byte.
        var joined = shardChunks.ChunkIds.SelectMany(id => Convert.FromBase64String(chunks[id]!.GetValue<string>())).ToArray();
        var slice = ShardData.Load(spec, shard, joined, shardChunks.StartByte);
        return new JsonObject
        {
            ["frame"] = Convert.ToBase64String(frame),
            ["chunks"] = chunks,
            ["startByte"] = shardChunks.StartByte,
            ["features"] = new JsonArray([.. slice.Features.Select(f => (JsonNode)(double)f)]),
            ["targets"] = new JsonArray([.. slice.Targets.Select(f => (JsonNode)(double)f)]),
        };
    }

    [Fact]
    public void Chunk_goldens_are_what_CSharp_cuts_now()
    {
        var fresh = new JsonObject();
        foreach (var c in Cases()) fresh[c.Name] = Golden(c);
        var text = fresh.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
        if (Environment.GetEnvironmentVariable(WriteVariable) == "1") File.WriteAllText(FilePath, text);

        Assert.True(File.Exists(FilePath), $"{FilePath} is missing; run this test with {WriteVariable}=1 and commit it.");
        Assert.Equal(text, File.ReadAllText(FilePath));
    }

    [Fact]
    public void Every_case_reads_more_than_one_chunk_from_a_start_byte_past_zero()
    {
        foreach (var c in Cases())
        {
            var golden = Golden(c);
            Assert.True(Frame.TryDecode(Convert.FromBase64String(golden["frame"]!.GetValue<string>()), out var message, out _, out var error), error);
            var chunks = Assert.IsType<AssignMessage>(message).DatasetChunks!;
            Assert.True(chunks.ChunkIds.Length >= 2, $"{c.Name}: {chunks.ChunkIds.Length} chunk");
            Assert.True(chunks.StartByte > 0, $"{c.Name}: starts at byte 0");
        }
    }
}
