using System.Text;

namespace Huginn.Workloads;

/// <summary>
/// Writes weights as a TorchSharp state-dict file, the format of <c>Module.save</c>/<c>Module.load</c>, without
/// TorchSharp: LEB128 entry count; per entry a .NET length-prefixed UTF-8 name, LEB128 dtype (6 = float32),
/// LEB128 rank, LEB128 dimensions, then the raw little-endian values. Entry names and shapes are the model
/// registry's layout, e.g. an MLP's "fc0.weight", "fc0.bias", …: a TorchSharp <c>Sequential</c> of
/// <c>("fc0", Linear)</c>, activation, <c>("fc1", Linear)</c>… loads it with <c>module.load(path)</c>.
/// </summary>
public static class TorchSharpFormat
{
    private const int Float32 = 6;

    public static byte[] Write(ModelSpec model, ReadOnlySpan<float> weights)
    {
        var layout = ModelRegistry.Get(model.Type).Layout(model);
        if (layout.Sum(t => t.Size) != weights.Length)
            throw new ArgumentException($"{weights.Length} values do not fit the model's {layout.Sum(t => t.Size)} parameters", nameof(weights));

        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            WriteLeb128(writer, layout.Count);
            var offset = 0;
            foreach (var tensor in layout)
            {
                writer.Write(tensor.Name);
                WriteLeb128(writer, Float32);
                WriteLeb128(writer, tensor.Shape.Length);
                foreach (var dimension in tensor.Shape) WriteLeb128(writer, dimension);
                writer.Write(WeightsFormat.ToBytes(weights.Slice(offset, (int)tensor.Size)));
                offset += (int)tensor.Size;
            }
        }
        return buffer.ToArray();
    }

    private static void WriteLeb128(BinaryWriter writer, long value)
    {
        do
        {
            var b = (byte)(value & 0x7f);
            value >>= 7;
            writer.Write(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
    }
}
