using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Huginn.Workloads;

namespace Huginn.Tests.Workloads;

/// <summary>
/// Issue 13, item 2: weights as safetensors files that the PyTorch module of the same architecture loads by name,
/// checked against an independent writer and reader (Tests/Workloads/safetensors_independent.py: struct and json only).
/// </summary>
public sealed class SafetensorsFormatTests
{
    public static readonly ModelSpec Mlp = new() { Type = ModelSpec.Mlp, InputSize = 4, HiddenSizes = [5, 3], OutputSize = 2 };
    public static readonly ModelSpec Cnn = new() { Type = ModelSpec.Cnn, Channels = 1, ImageSize = 8, ConvChannels = [2, 3], KernelSize = 3, HiddenSizes = [4], OutputSize = 2 };
    public static readonly ModelSpec Transformer = new()
    {
        Type = ModelSpec.Transformer, VocabSize = 10, SequenceLength = 4, ModelDim = 8, Heads = 2, Layers = 2, FeedForwardDim = 16, OutputSize = 3,
    };

    public static TheoryData<string> ModelTypes => new() { ModelSpec.Mlp, ModelSpec.Cnn, ModelSpec.Transformer };

    private static ModelSpec Model(string type) => type switch
    {
        ModelSpec.Mlp => Mlp,
        ModelSpec.Cnn => Cnn,
        _ => Transformer,
    };

    private static float[] Weights(ModelSpec model, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, (int)ModelRegistry.Get(model.Type).ParameterCount(model)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    [Theory, MemberData(nameof(ModelTypes))]
    public void Weights_round_trip_for_every_model_type(string type)
    {
        var model = Model(type);
        Assert.Empty(ModelRegistry.Get(type).Validate(model));
        var weights = Weights(model, 1);

        var file = SafetensorsFormat.Write(model, weights, new Dictionary<string, string> { ["format"] = "pt" });

        Assert.Equal(weights, SafetensorsFormat.ReadWeights(file, model));
        var header = SafetensorsFormat.ReadHeader(file);
        Assert.Equal(0, header.DataStart % 8);
        Assert.Equal("pt", header.Metadata["format"]);
        // No tensor is transposed: the data section is the flat f32 blob itself, so results stream as header + blob.
        Assert.Equal(WeightsFormat.ToBytes(weights), file[(int)header.DataStart..]);
        Assert.Equal(SafetensorsFormat.PyTorchLayout(model).Select(t => t.Name), header.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void Names_are_those_of_the_pytorch_modules_in_the_readme()
    {
        // nn.Sequential(Linear(4,5), act, Linear(5,3), act, Linear(3,2)).
        Assert.Equal(
            ["0.weight [5,4]", "0.bias [5]", "2.weight [3,5]", "2.bias [3]", "4.weight [2,3]", "4.bias [2]"],
            Describe(Mlp));
        // nn.Sequential(Conv2d(1,2,3,padding=1), act, MaxPool2d(2), Conv2d(2,3,3,padding=1), act, MaxPool2d(2), Flatten(), Linear(12,4), act, Linear(4,2)).
        Assert.Equal(
            ["0.weight [2,1,3,3]", "0.bias [2]", "3.weight [3,2,3,3]", "3.bias [3]", "7.weight [4,12]", "7.bias [4]", "9.weight [2,4]", "9.bias [2]"],
            Describe(Cnn));
        var transformer = Describe(Transformer);
        Assert.Equal(["embedding.token [10,8]", "embedding.position [4,8]", "blocks.0.norm1.weight [8]", "blocks.0.norm1.bias [8]",
            "blocks.0.attention.in_proj_weight [24,8]", "blocks.0.attention.in_proj_bias [24]", "blocks.0.attention.out_proj.weight [8,8]",
            "blocks.0.attention.out_proj.bias [8]", "blocks.0.norm2.weight [8]", "blocks.0.norm2.bias [8]", "blocks.0.ff1.weight [16,8]",
            "blocks.0.ff1.bias [16]", "blocks.0.ff2.weight [8,16]", "blocks.0.ff2.bias [8]"], transformer.Take(14));
        Assert.Equal(["norm.weight [8]", "norm.bias [8]", "head.weight [3,8]", "head.bias [3]"], transformer.TakeLast(4));
    }

    private static string[] Describe(ModelSpec model) =>
        SafetensorsFormat.PyTorchLayout(model).Select(t => $"{t.Name} [{string.Join(",", t.Tensor.Shape)}]").ToArray();

    [Theory, MemberData(nameof(ModelTypes))]
    public void A_file_from_an_independent_writer_is_read_by_name_shape_and_value(string type)
    {
        var model = Model(type);
        var layout = SafetensorsFormat.PyTorchLayout(model);
        var weights = Weights(model, 2);
        var tensors = new List<object>();
        var offset = 0;
        foreach (var (name, tensor) in layout)
        {
            tensors.Add(new { name, shape = tensor.Shape, values = weights[offset..(offset + (int)tensor.Size)] });
            offset += (int)tensor.Size;
        }
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "python.safetensors");

        Python("write", path, JsonSerializer.Serialize(new { tensors, metadata = new { format = "pt", by = "python" } }));

        var file = File.ReadAllBytes(path);
        var header = SafetensorsFormat.ReadHeader(file);
        // The writer stores tensors in name order ("0.bias" before "0.weight"), not in the registry's: read by name.
        Assert.Equal(layout.Select(t => t.Name).Order(StringComparer.Ordinal), header.Tensors.Select(t => t.Name));
        Assert.Equal("python", header.Metadata["by"]);
        foreach (var (name, tensor) in layout)
            Assert.Equal(tensor.Shape.Select(d => (long)d), header.Tensors.Single(t => t.Name == name).Shape);
        Assert.Equal(weights, SafetensorsFormat.ReadWeights(file, model));
    }

    [Theory, MemberData(nameof(ModelTypes))]
    public void Our_file_is_read_by_the_independent_reader(string type)
    {
        var model = Model(type);
        var weights = Weights(model, 3);
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "huginn.safetensors");
        File.WriteAllBytes(path, SafetensorsFormat.Write(model, weights, new Dictionary<string, string> { ["format"] = "pt", ["huginn.jobId"] = "job_x" }));

        using var read = JsonDocument.Parse(Python("read", path, null));

        Assert.Equal("job_x", read.RootElement.GetProperty("metadata").GetProperty("huginn.jobId").GetString());
        var tensors = read.RootElement.GetProperty("tensors").EnumerateArray().ToList();
        var layout = SafetensorsFormat.PyTorchLayout(model);
        Assert.Equal(layout.Select(t => t.Name), tensors.Select(t => t.GetProperty("name").GetString()));
        var offset = 0;
        foreach (var ((_, tensor), read1) in layout.Zip(tensors))
        {
            Assert.Equal(tensor.Shape, read1.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
            Assert.Equal(weights[offset..(offset + (int)tensor.Size)], read1.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()));
            offset += (int)tensor.Size;
        }
    }

    [Fact]
    public void Inference_outputs_are_one_tensor_of_samples_by_outputs()
    {
        var header = SafetensorsFormat.OutputsHeader(6, 3);
        var file = header.Concat(new byte[6 * 3 * 4]).ToArray();

        var tensor = Assert.Single(SafetensorsFormat.ReadHeader(file).Tensors);

        Assert.Equal(("outputs", "F32", 0L, 72L), (tensor.Name, tensor.Dtype, tensor.Begin, tensor.End));
        Assert.Equal([6L, 3L], tensor.Shape);
    }

    public static TheoryData<string, int, string> MalformedHeaders => new()
    {
        { "[1, 2]", 0, "must be a JSON object starting with '{'" },
        { "{\"a\": ", 0, "not valid JSON" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [12, 16]}}", 16, "bytes 8 to 12 of the data belong to no tensor" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12, "\"b\" starts at byte 4, inside the tensor before it" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8, "F32 [3] takes 12 bytes, but data_offsets [0, 8] hold 8" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 12, "the tensors cover 8 bytes of data, but the file has 12" },
        { "{\"a\": {\"dtype\": \"F33\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8, "unknown dtype \"F33\"" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", 16, "\"a\" appears twice" },
        { "{\"__metadata__\": {\"n\": 1}}", 0, "\"__metadata__\".\"n\" must be a string" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8, "shape must be an array of non-negative integers" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8, "lacks data_offsets" },
        { "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8, "end before they begin" },
    };

    [Theory, MemberData(nameof(MalformedHeaders))]
    public void A_malformed_file_is_refused_with_the_reason(string json, int dataBytes, string reason)
    {
        var file = FileWith(json, dataBytes);

        var refused = Assert.Throws<SafetensorsException>(() => SafetensorsFormat.ReadHeader(file));

        Assert.Contains(reason, refused.Message);
    }

    [Fact]
    public async Task A_header_length_beyond_the_file_or_the_limit_is_refused_before_the_header_is_read()
    {
        var file = FileWith("{}", 0);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 1000);
        Assert.Contains("header length is 1000 bytes, but the file has only 2 after the length", Assert.Throws<SafetensorsException>(() => SafetensorsFormat.ReadHeader(file)).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue);
        var refused = await Assert.ThrowsAsync<SafetensorsException>(() => SafetensorsFormat.ReadHeaderAsync(new MemoryStream(file), file.Length));
        Assert.Contains($"at most {SafetensorsFormat.MaxHeaderBytes} are read", refused.Message);
        Assert.Contains("8-byte header length", Assert.Throws<SafetensorsException>(() => SafetensorsFormat.ReadHeader(new byte[5])).Message);
    }

    [Fact]
    public void A_file_of_another_model_names_every_missing_extra_and_misshapen_tensor()
    {
        var other = Mlp with { HiddenSizes = [5] };
        var file = SafetensorsFormat.Write(other, Weights(other, 4));

        var (ranges, errors) = SafetensorsFormat.MatchModel(SafetensorsFormat.ReadHeader(file), Mlp with { HiddenSizes = [5, 3], InputSize = 4 });

        Assert.Empty(ranges);
        Assert.Equal([
            "missing tensors: 4.weight [2, 3], 4.bias [2]",
            "2.weight has shape [2, 5]; this model's is [3, 5]",
            "2.bias has shape [2]; this model's is [3]",
        ], errors);
        var extra = SafetensorsFormat.MatchModel(SafetensorsFormat.ReadHeader(SafetensorsFormat.Write(Mlp, Weights(Mlp, 5))), other).Errors;
        Assert.Contains("tensors this model does not have: 4.weight, 4.bias", extra);
    }

    [Fact]
    public void A_half_precision_tensor_is_refused_with_the_conversion_to_make()
    {
        var file = FileWith("{\"0.weight\": {\"dtype\": \"F16\", \"shape\": [2, 1], \"data_offsets\": [0, 4]}, \"0.bias\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", 12);

        var errors = SafetensorsFormat.MatchModel(SafetensorsFormat.ReadHeader(file), new ModelSpec { Type = ModelSpec.Mlp, InputSize = 1, OutputSize = 2 }).Errors;

        Assert.Equal(["0.weight is F16; Huginn reads F32 (in PyTorch: {k: v.float() for k, v in state_dict.items()})"], errors);
    }

    [Fact]
    public async Task Byte_ranges_stream_in_the_order_given_whatever_the_read_size()
    {
        var source = Enumerable.Range(0, 100).Select(i => (byte)i).ToArray();
        var ranges = new List<(long, long)> { (50, 30), (0, 10), (90, 0), (10, 40) };
        var expected = source[50..80].Concat(source[0..10]).Concat(source[10..50]).ToArray();

        using var stream = new ByteRangesStream(new MemoryStream(source), ranges);
        var read = new MemoryStream();
        var buffer = new byte[7];
        for (var n = await stream.ReadAsync(buffer); n > 0; n = await stream.ReadAsync(buffer)) read.Write(buffer, 0, n);

        Assert.Equal(expected, read.ToArray());
    }

    private static byte[] FileWith(string json, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var file = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        return file;
    }

    /// <summary>The independent writer and reader beside this file; fails the test with its error output if it fails.</summary>
    public static string Python(string mode, string path, string? input)
    {
        var script = Path.Combine(Path.GetDirectoryName(ThisFile())!, "safetensors_independent.py");
        var start = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { script, mode, path }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        if (input is not null) process.StandardInput.Write(input);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill();
            throw new TimeoutException($"python3 {mode} did not finish in 60 s");
        }
        Assert.True(process.ExitCode == 0, $"python3 {mode} exited {process.ExitCode}: {error.Result}");
        return output.Result;
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;

    private sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("huginn-safetensors-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
