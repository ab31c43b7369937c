using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Huginn.Workloads;

/// <summary>One tensor of a safetensors file: its dtype, shape and byte range in the data section.</summary>
public sealed record SafetensorsTensor(string Name, string Dtype, long[] Shape, long Begin, long End)
{
    public long Bytes => End - Begin;
}

/// <summary>
/// A safetensors file's header, checked: tensors in offset order, the metadata, where the data section starts and
/// how long it is (the file's length is <c>DataStart + DataBytes</c>).
/// </summary>
public sealed record SafetensorsHeader(IReadOnlyList<SafetensorsTensor> Tensors, IReadOnlyDictionary<string, string> Metadata, long DataStart, long DataBytes);

/// <summary>What is wrong with a safetensors file, said so that its author can fix it.</summary>
public sealed class SafetensorsException(string reason) : Exception(reason);

/// <summary>
/// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length N; N
/// bytes of UTF-8 JSON <c>{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}</c>
/// (written padded with spaces to a multiple of 8 so that the data is aligned); then the data section, every
/// tensor row-major little-endian at its offsets (relative to the section's start), covering it with no hole and
/// no overlap.
/// </summary>
/// <remarks>
/// Names follow PyTorch, so that the module of the same architecture loads the file with <c>load_state_dict</c>
/// (README.md, "Weights as safetensors", has the modules): an mlp is <c>nn.Sequential(Linear, act, Linear, …)</c>
/// whose linears are 0, 2, 4…; a cnn is <c>nn.Sequential(Conv2d, act, MaxPool2d, …, Flatten, Linear, act, …)</c>,
/// convolution i at 3i and linear j at 3C+1+2j for C convolutions; a transformer keeps the registry's names, which
/// are those of a small nn.Module with <c>nn.MultiheadAttention</c>. The registry lays every weight out row-major
/// [out, in] (and convolutions [cout, cin, k, k]) as PyTorch does, so no tensor is transposed: the data section
/// of a model's file is the flat f32 weight blob itself, byte for byte, and a result is converted by writing a
/// header in front of the blob while it streams.
/// </remarks>
public static class SafetensorsFormat
{
    public const string F32 = "F32";
    public const string MetadataKey = "__metadata__";

    /// <summary>The tensor name of inference outputs: one [samples, outputSize] tensor.</summary>
    public const string OutputsName = "outputs";

    /// <summary>The reference implementation's bound on the header (100 MB); a longer one is refused before it is read.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, int> DtypeBytes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    // ---- Names ---------------------------------------------------------------------------------------------------

    /// <summary>Each parameter tensor of the registry layout (in layout order) with its PyTorch state_dict name.</summary>
    public static IReadOnlyList<(string Name, ParameterTensor Tensor)> PyTorchLayout(ModelSpec model)
    {
        var layout = ModelRegistry.Get(model.Type).Layout(model);
        var convolutions = model.Type == ModelSpec.Cnn ? model.ConvChannels.Length : 0;
        return layout.Select(t => (PyTorchName(model.Type, convolutions, t.Name), t)).ToList();
    }

    /// <summary>fc{j} → the index of linear j in the nn.Sequential; conv{i} → that of convolution i; other names as they are.</summary>
    private static string PyTorchName(string type, int convolutions, string name)
    {
        if (type is not (ModelSpec.Mlp or ModelSpec.Cnn)) return name;
        var dot = name.IndexOf('.');
        var (module, parameter) = (name[..dot], name[dot..]);
        if (module.StartsWith("conv", StringComparison.Ordinal)) return $"{3 * int.Parse(module[4..], CultureInfo.InvariantCulture)}{parameter}";
        var linear = int.Parse(module[2..], CultureInfo.InvariantCulture);
        var first = type == ModelSpec.Mlp ? 0 : 3 * convolutions + 1;
        return $"{first + 2 * linear}{parameter}";
    }

    // ---- Writing -------------------------------------------------------------------------------------------------

    /// <summary>
    /// The header of a file of F32 tensors stored back to back in the given order: the 8-byte length and the JSON,
    /// padded with spaces to a multiple of 8. The data section that must follow is Σ 4·size bytes.
    /// </summary>
    public static byte[] Header(IEnumerable<(string Name, long[] Shape)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            var offset = 0L;
            foreach (var (name, shape) in tensors)
            {
                var bytes = checked(4 * Elements(shape));
                writer.WriteStartObject(name);
                writer.WriteString("dtype", F32);
                writer.WriteStartArray("shape");
                foreach (var dimension in shape) writer.WriteNumberValue(dimension);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + bytes);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += bytes;
            }
            writer.WriteEndObject();
        }
        var length = (json.Length + 7) / 8 * 8;
        var header = new byte[8 + length];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)length);
        json.ToArray().CopyTo(header, 8);
        header.AsSpan(8 + (int)json.Length).Fill((byte)' ');
        return header;
    }

    /// <summary>The header of a model's weights; the flat f32 weight blob (layout order) is its data section as it is.</summary>
    public static byte[] WeightsHeader(ModelSpec model, IReadOnlyDictionary<string, string>? metadata = null) =>
        Header(PyTorchLayout(model).Select(t => (t.Name, t.Tensor.Shape.Select(d => (long)d).ToArray())), metadata);

    /// <summary>The header of inference outputs: one F32 tensor "outputs" [samples, outputSize], the concatenated output blobs.</summary>
    public static byte[] OutputsHeader(long samples, int outputSize, IReadOnlyDictionary<string, string>? metadata = null) =>
        Header([(OutputsName, [samples, outputSize])], metadata);

    /// <summary>A whole file of a model's weights (for tests and small models; results stream <see cref="WeightsHeader"/> and the blob).</summary>
    public static byte[] Write(ModelSpec model, ReadOnlySpan<float> weights, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var expected = ModelRegistry.Get(model.Type).ParameterCount(model);
        if (weights.Length != expected)
            throw new ArgumentException($"{weights.Length} values do not fit the model's {expected} parameters", nameof(weights));
        return [.. WeightsHeader(model, metadata), .. WeightsFormat.ToBytes(weights)];
    }

    // ---- Reading -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Reads and checks the header of a file of <paramref name="fileLength"/> bytes from the start of
    /// <paramref name="stream"/> (the stream is left after the header, at the data section); throws
    /// <see cref="SafetensorsException"/> saying what is wrong.
    /// </summary>
    public static async Task<SafetensorsHeader> ReadHeaderAsync(Stream stream, long fileLength, CancellationToken cancellationToken = default)
    {
        if (fileLength < 8) throw new SafetensorsException($"the file is {fileLength} bytes; a safetensors file starts with an 8-byte header length");
        var prefix = new byte[8];
        await stream.ReadExactlyAsync(prefix, cancellationToken);
        var headerLength = HeaderLength(prefix, fileLength);
        var json = new byte[headerLength];
        await stream.ReadExactlyAsync(json, cancellationToken);
        return ParseHeader(json, fileLength);
    }

    /// <summary><see cref="ReadHeaderAsync"/> over a file in memory.</summary>
    public static SafetensorsHeader ReadHeader(ReadOnlySpan<byte> file)
    {
        if (file.Length < 8) throw new SafetensorsException($"the file is {file.Length} bytes; a safetensors file starts with an 8-byte header length");
        var headerLength = HeaderLength(file[..8], file.Length);
        return ParseHeader(file.Slice(8, (int)headerLength), file.Length);
    }

    private static long HeaderLength(ReadOnlySpan<byte> prefix, long fileLength)
    {
        var length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (length > MaxHeaderBytes) throw new SafetensorsException($"the header length is {length} bytes; at most {MaxHeaderBytes} are read");
        if ((long)length > fileLength - 8) throw new SafetensorsException($"the header length is {length} bytes, but the file has only {fileLength - 8} after the length");
        return (long)length;
    }

    private static SafetensorsHeader ParseHeader(ReadOnlySpan<byte> json, long fileLength)
    {
        if (json.Length == 0 || json[0] != (byte)'{') throw new SafetensorsException("the header must be a JSON object starting with '{'");
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(json);
        }
        catch (DecoderFallbackException)
        {
            throw new SafetensorsException("the header is not valid UTF-8");
        }
        JsonDocument document;
        try
        {
            // Trailing spaces (the alignment padding) are whitespace to the parser.
            document = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new SafetensorsException($"the header is not valid JSON: {ex.Message}");
        }
        using (document)
        {
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var tensors = new List<SafetensorsTensor>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name)) throw new SafetensorsException($"\"{property.Name}\" appears twice in the header");
                if (property.Name == MetadataKey) ReadMetadata(property.Value, metadata);
                else tensors.Add(ReadTensor(property.Name, property.Value));
            }
            tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            var end = 0L;
            foreach (var tensor in tensors)
            {
                if (tensor.Begin < end) throw new SafetensorsException($"tensor \"{tensor.Name}\" starts at byte {tensor.Begin}, inside the tensor before it (which ends at {end})");
                if (tensor.Begin > end) throw new SafetensorsException($"bytes {end} to {tensor.Begin} of the data belong to no tensor (before \"{tensor.Name}\")");
                end = tensor.End;
            }
            var dataStart = 8L + json.Length;
            if (dataStart + end != fileLength)
                throw new SafetensorsException($"the tensors cover {end} bytes of data, but the file has {fileLength - dataStart} after the header");
            return new SafetensorsHeader(tensors, metadata, dataStart, end);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new SafetensorsException("\"__metadata__\" must be an object of strings");
        foreach (var entry in value.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String) throw new SafetensorsException($"\"__metadata__\".\"{entry.Name}\" must be a string");
            metadata[entry.Name] = entry.Value.GetString()!;
        }
    }

    private static SafetensorsTensor ReadTensor(string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new SafetensorsException($"tensor \"{name}\" must be an object with dtype, shape and data_offsets");
        string? dtype = null;
        long[]? shape = null, offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype":
                    dtype = field.Value.ValueKind == JsonValueKind.String ? field.Value.GetString() : throw new SafetensorsException($"tensor \"{name}\": dtype must be a string");
                    break;
                case "shape":
                    shape = Integers(name, "shape", field.Value);
                    break;
                case "data_offsets":
                    offsets = Integers(name, "data_offsets", field.Value);
                    break;
                default:
                    throw new SafetensorsException($"tensor \"{name}\" has an unknown field \"{field.Name}\"");
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw new SafetensorsException($"tensor \"{name}\" lacks {string.Join(", ", new[] { dtype is null ? "dtype" : null, shape is null ? "shape" : null, offsets is null ? "data_offsets" : null }.OfType<string>())}");
        if (!DtypeBytes.TryGetValue(dtype, out var size)) throw new SafetensorsException($"tensor \"{name}\" has an unknown dtype \"{dtype}\"");
        if (offsets.Length != 2) throw new SafetensorsException($"tensor \"{name}\": data_offsets must be [begin, end]");
        var (begin, end) = (offsets[0], offsets[1]);
        if (end < begin) throw new SafetensorsException($"tensor \"{name}\": data_offsets [{begin}, {end}] end before they begin");
        long bytes;
        try
        {
            bytes = checked(size * Elements(shape));
        }
        catch (OverflowException)
        {
            throw new SafetensorsException($"tensor \"{name}\": shape [{string.Join(", ", shape)}] is too large");
        }
        if (end - begin != bytes)
            throw new SafetensorsException($"tensor \"{name}\": {dtype} [{string.Join(", ", shape)}] takes {bytes} bytes, but data_offsets [{begin}, {end}] hold {end - begin}");
        return new SafetensorsTensor(name, dtype, shape, begin, end);
    }

    private static long[] Integers(string tensor, string field, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array) throw new SafetensorsException($"tensor \"{tensor}\": {field} must be an array of non-negative integers");
        var numbers = new List<long>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number) || number < 0)
                throw new SafetensorsException($"tensor \"{tensor}\": {field} must be an array of non-negative integers");
            numbers.Add(number);
        }
        return [.. numbers];
    }

    private static long Elements(long[] shape)
    {
        var elements = 1L;
        foreach (var dimension in shape) elements = checked(elements * dimension);
        return elements;
    }

    // ---- Matching a model ----------------------------------------------------------------------------------------

    /// <summary>
    /// Where each of the model's parameter tensors lies in the file, in layout order (byte ranges of the data
    /// section), so that copying them one after the other gives the flat f32 weight blob. Every expected name must
    /// be there with its shape and dtype F32, and no other; the errors name each name that is missing, extra or
    /// different.
    /// </summary>
    public static (IReadOnlyList<(long Begin, long Bytes)> Ranges, IReadOnlyList<string> Errors) MatchModel(SafetensorsHeader header, ModelSpec model)
    {
        var found = header.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var ranges = new List<(long, long)>();
        var errors = new List<string>();
        var missing = new List<string>();
        var expectedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in PyTorchLayout(model))
        {
            expectedNames.Add(name);
            if (!found.TryGetValue(name, out var stored))
            {
                missing.Add($"{name} [{string.Join(", ", tensor.Shape)}]");
                continue;
            }
            if (stored.Dtype != F32)
                errors.Add($"{name} is {stored.Dtype}; Huginn reads F32 (in PyTorch: {{k: v.float() for k, v in state_dict.items()}})");
            else if (!stored.Shape.SequenceEqual(tensor.Shape.Select(d => (long)d)))
                errors.Add($"{name} has shape [{string.Join(", ", stored.Shape)}]; this model's is [{string.Join(", ", tensor.Shape)}]");
            else ranges.Add((stored.Begin, stored.Bytes));
        }
        if (missing.Count > 0) errors.Insert(0, $"missing tensors: {string.Join(", ", missing)}");
        var extra = header.Tensors.Where(t => !expectedNames.Contains(t.Name)).Select(t => t.Name).ToList();
        if (extra.Count > 0) errors.Add($"tensors this model does not have: {string.Join(", ", extra)}");
        return (errors.Count > 0 ? [] : ranges, errors);
    }

    /// <summary>A whole file's weights in layout order (for tests and small files); throws <see cref="SafetensorsException"/> for a file that does not fit the model.</summary>
    public static float[] ReadWeights(ReadOnlySpan<byte> file, ModelSpec model)
    {
        var header = ReadHeader(file);
        var (ranges, errors) = MatchModel(header, model);
        if (errors.Count > 0) throw new SafetensorsException(string.Join("; ", errors));
        using var flat = new MemoryStream();
        foreach (var (begin, bytes) in ranges) flat.Write(file.Slice((int)(header.DataStart + begin), (int)bytes));
        return WeightsFormat.FromBytes(flat.ToArray());
    }
}
