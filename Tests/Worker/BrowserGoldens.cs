using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Huginn.Protocol;
using Huginn.Tests.Workloads;
using Huginn.Worker.Execution;
using Huginn.Workloads;

namespace Huginn.Tests.Worker;

/// <summary>
/// The golden vectors of the browser executor (web/src/executor), made by the C# side: the deterministic random
/// streams and math, initial weights, synthetic data, sampler batches, and one train, infer and prep shard per model
/// type from the TorchSharp executor (and the reference executor for the mlp). web/test/golden/*.json holds them;
/// the JS tests check the browser against them and <see cref="BrowserGoldenTests"/> checks that C# still makes them.
/// </summary>
/// <remarks>
/// Exact values travel as bits: uint64 as decimal strings (a JSON number loses bits above 2^53 in JavaScript),
/// doubles as 16 hex digits of their IEEE-754 bits, float32 arrays as base64 of their little-endian bytes.
/// Small on purpose: tiny models, few samples, so the files stay reviewable and the JS tests fast.
/// </remarks>
internal static class BrowserGoldens
{
    /// <summary>Set to 1 to (re)write web/test/golden/ from what C# produces now instead of comparing.</summary>
    public const string WriteVariable = "HUGINN_WRITE_BROWSER_GOLDENS";

    /// <summary>The section of a shard case that TorchSharp computed: compared by distance, never bit for bit.</summary>
    public const string TorchSection = "torch";

    public static string Folder => Path.Combine(Huginn.Tests.Deploy.RepositoryPaths.Root, "web", "test", "golden");

    private static readonly JsonSerializerOptions Indented = new(Frame.Json) { WriteIndented = true };

    public static IReadOnlyDictionary<string, JsonObject> Build(TorchExecutor torch) => new Dictionary<string, JsonObject>
    {
        ["random.json"] = Random(),
        ["weights.json"] = Weights(),
        ["data.json"] = Data(),
        ["sampler.json"] = Sampler(),
        ["shards.json"] = Shards(torch),
    };

    public static string Serialize(JsonObject file) => file.ToJsonString(Indented) + "\n";

    private static JsonObject Random()
    {
        var streams = new JsonArray();
        foreach (var seed in new ulong[] { 0, 42, 12345678901234567890UL, ulong.MaxValue })
        {
            var r = new DeterministicRandom(seed);
            streams.Add(new JsonObject
            {
                ["seed"] = U64(seed),
                ["ulongs"] = Array(Enumerable.Range(0, 8).Select(_ => U64(r.NextULong()))),
                ["doubles"] = Array(Enumerable.Range(0, 8).Select(_ => F64(r.NextDouble()))),
                ["floats"] = Array(Enumerable.Range(0, 8).Select(_ => F64(r.NextFloat()))),
                ["ints"] = Array(new[] { 1, 2, 3, 10, 37, 1000, int.MaxValue }.Select(n => (JsonNode)new JsonObject
                {
                    ["n"] = n,
                    ["values"] = Array(Enumerable.Range(0, 6).Select(_ => (JsonNode)r.NextInt(n))),
                })),
                ["gaussians"] = Array(Enumerable.Range(0, 16).Select(_ => F64(r.NextGaussian()))),
            });
        }
        var derive = new JsonArray();
        foreach (var (seed, parts) in new (ulong, long[])[] { (42, [1, 2]), (42, []), (7, [2, 10]), (ulong.MaxValue, [-1, long.MaxValue, 0]), (11, [3]) })
        {
            derive.Add(new JsonObject
            {
                ["seed"] = U64(seed),
                ["parts"] = Array(parts.Select(p => (JsonNode)p.ToString(CultureInfo.InvariantCulture))),
                ["value"] = U64(DeterministicRandom.Derive(seed, parts)),
            });
        }
        double[] points = [1e-310, 5e-324, 1e-5, 0.1, 0.5, 0.999, 1, 1.0000001, 1.5, 2, Math.E, 10, 123.456, 1e300, -0.5, -20, -700, 30, 709, 0];
        return new JsonObject
        {
            ["streams"] = streams,
            ["derive"] = derive,
            ["math"] = new JsonObject
            {
                ["log"] = Pairs(points, DeterministicMath.Log),
                ["exp"] = Pairs(points, DeterministicMath.Exp),
                ["tanh"] = Pairs(points, DeterministicMath.Tanh),
            },
        };
    }

    private static JsonArray Pairs(double[] points, Func<double, double> f) =>
        Array(points.Select(x => (JsonNode)new JsonArray(F64(x), F64(f(x)))));

    /// <summary>The models of the shard cases, small enough for a reviewable file.</summary>
    private static IEnumerable<(string Name, ModelSpec Model)> Models() =>
    [
        ("mlp-relu-mse", ExampleSpecs.Mlp(6, [16, 8], 3)),
        ("mlp-tanh-ce", ExampleSpecs.Mlp(5, [12], 4, ModelSpec.CrossEntropy, ModelSpec.Tanh)),
        ("cnn-relu-ce", ExampleSpecs.Cnn()),
        ("cnn-tanh-mse", ExampleSpecs.Cnn() with { Channels = 2, ImageSize = 6, ConvChannels = [3], KernelSize = 3, HiddenSizes = [8], OutputSize = 2, Loss = ModelSpec.Mse, Activation = ModelSpec.Tanh }),
        ("transformer-relu-ce", SmallTransformer(ModelSpec.Relu)),
        ("transformer-tanh-mse", SmallTransformer(ModelSpec.Tanh) with { Loss = ModelSpec.Mse, OutputSize = 2 }),
    ];

    private static ModelSpec SmallTransformer(string activation) => new()
    {
        Type = ModelSpec.Transformer,
        VocabSize = 10,
        SequenceLength = 4,
        ModelDim = 8,
        Heads = 2,
        Layers = 2,
        FeedForwardDim = 16,
        OutputSize = 3,
        Loss = ModelSpec.CrossEntropy,
        Activation = activation,
    };

    private static JsonObject Weights()
    {
        var cases = new JsonArray();
        foreach (var (name, model) in Models())
        {
            cases.Add(new JsonObject
            {
                ["name"] = name,
                ["model"] = JsonSerializer.SerializeToNode(model, Frame.Json),
                ["seed"] = U64(11),
                ["weights"] = F32(ModelInitializer.Initialize(model, 11)),
            });
        }
        return new JsonObject { ["cases"] = cases };
    }

    private static JsonObject Data()
    {
        var cases = new JsonArray();
        foreach (var (name, model) in Models())
        {
            foreach (var kind in new[] { SyntheticDatasetSpec.Teacher, SyntheticDatasetSpec.Blobs })
            {
                var dataset = new SyntheticDatasetSpec { Kind = kind, Samples = 100, Seed = 12345678901234567890UL, Noise = kind == SyntheticDatasetSpec.Blobs ? 0.3 : 0.1 };
                var slice = SyntheticData.Generate(dataset, model, 17, 6);
                cases.Add(new JsonObject
                {
                    ["name"] = $"{name}-{kind}",
                    ["model"] = JsonSerializer.SerializeToNode(model, Frame.Json),
                    ["dataset"] = new JsonObject { ["kind"] = kind, ["samples"] = dataset.Samples, ["seed"] = U64(dataset.Seed), ["noise"] = dataset.Noise },
                    ["offset"] = 17,
                    ["count"] = 6,
                    ["features"] = F32(slice.Features),
                    ["targets"] = F32(slice.Targets),
                });
            }
        }
        return new JsonObject { ["cases"] = cases };
    }

    private static JsonObject Sampler()
    {
        var cases = new JsonArray();
        foreach (var (seed, slice, batch) in new (ulong, int, int)[] { (1, 10, 4), (12345678901234567890UL, 37, 5), (ulong.MaxValue, 1000, 3) })
        {
            var sampler = new MiniBatchSampler(seed, slice);
            cases.Add(new JsonObject
            {
                ["seed"] = U64(seed),
                ["slice"] = slice,
                ["batchSize"] = batch,
                ["batches"] = Array(Enumerable.Range(0, 4).Select(_ => (JsonNode)Array(sampler.NextBatch(batch).Select(i => (JsonNode)i)))),
            });
        }
        return new JsonObject { ["cases"] = cases };
    }

    /// <summary>
    /// Per model: a train shard from the spec's seed (no weights given: the device initialises), a train shard from
    /// given weights (round 1), an infer shard; and one prep shard. The shard plans come from the job planner.
    /// </summary>
    private static JsonObject Shards(TorchExecutor torch)
    {
        var cases = new JsonArray();
        foreach (var (name, model) in Models())
        {
            var data = model.Loss == ModelSpec.CrossEntropy ? ExampleSpecs.Blobs(240, noise: 0.5) : ExampleSpecs.Teacher(240);
            var train = ExampleSpecs.Train(model, data) with { LocalSteps = 6, BatchSize = 8, LearningRate = 0.1f, ShardsPerRound = 4 };
            var initial = ModelInitializer.Initialize(model, train.Seed);
            cases.Add(Shard($"{name}-train", train, JobPlanner.Plan(train).Shard(0, 1), initial, sendWeights: false, torch));
            // Round 1 starts from other weights, sent with the shard: those of another seed stand in for an averaged round.
            cases.Add(Shard($"{name}-train-round1", train, JobPlanner.Plan(train).Shard(1, 2), ModelInitializer.Initialize(model, 99), sendWeights: true, torch));
            var infer = ExampleSpecs.Infer(model, samples: 40, shards: 2) with { Dataset = new DatasetSpec { Synthetic = data with { Samples = 40 } } };
            cases.Add(Shard($"{name}-infer", infer, JobPlanner.Plan(infer).Shard(0, 1), ModelInitializer.Initialize(model, 5), sendWeights: true, torch));
        }
        var prep = ExampleSpecs.Prep(ExampleSpecs.Mlp(6, [8], 3), samples: 40, shards: 2, scale: 0.03f);
        cases.Add(Shard("mlp-prep", prep, JobPlanner.Plan(prep).Shard(0, 1), [], sendWeights: false, torch));
        var cnnPrep = ExampleSpecs.Prep(ExampleSpecs.Cnn(), samples: 20, shards: 2) with { Dataset = new DatasetSpec { Synthetic = ExampleSpecs.Blobs(20, noise: 2) } };
        cases.Add(Shard("cnn-prep", cnnPrep, JobPlanner.Plan(cnnPrep).Shard(0, 0), [], sendWeights: false, torch));
        return new JsonObject { ["cases"] = cases };
    }

    private static JsonObject Shard(string name, JobSpec spec, ShardPlan shard, float[] weights, bool sendWeights, TorchExecutor torch)
    {
        var slice = ShardData.Load(spec, shard);
        var result = new JsonObject
        {
            ["name"] = name,
            ["spec"] = JsonSerializer.SerializeToNode(spec, Frame.Json),
            ["shard"] = new JsonObject
            {
                ["round"] = shard.Round,
                ["index"] = shard.Index,
                ["sampleOffset"] = shard.SampleOffset,
                ["sampleCount"] = shard.SampleCount,
                ["seed"] = U64(shard.Seed),
                ["flops"] = shard.Flops,
                ["steps"] = shard.Steps,
                ["batchSize"] = shard.BatchSize,
            },
            ["weights"] = sendWeights ? F32(weights) : null,
        };
        if (spec.Model?.Type == ModelSpec.Mlp || spec.Kind == WorkloadKind.Prep)
            result["reference"] = Output(ReferenceExecutor.Execute(spec, shard, weights, slice));
        if (spec.Kind != WorkloadKind.Prep)
            result[TorchSection] = Output(torch.Execute(spec, shard, weights, slice));
        return result;
    }

    private static JsonObject Output(ShardOutput output) => new()
    {
        ["values"] = F32(output.Values),
        ["bytes"] = Convert.ToBase64String(output.Bytes),
        ["loss"] = double.IsNaN(output.Loss) ? null : F64(output.Loss),
        ["samples"] = output.Samples,
    };

    private static JsonArray Array(IEnumerable<JsonNode> nodes) => new(nodes.ToArray());

    private static JsonNode U64(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static JsonNode F64(double value) => BitConverter.DoubleToInt64Bits(value).ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>float32 values as base64 of their little-endian bytes (bit-exact, a third of the size of decimals).</summary>
    public static string F32(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        for (var i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return Convert.ToBase64String(bytes);
    }

    public static float[] ReadF32(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        var values = new float[bytes.Length / sizeof(float)];
        for (var i = 0; i < values.Length; i++) values[i] = System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
        return values;
    }
}
