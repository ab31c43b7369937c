using System.Buffers.Binary;

namespace Huginn.Workloads;

/// <summary>
/// Reads a dataset's bytes once, in order and in pieces of any size (its chunks as they stream from the store), and
/// learns its <see cref="DatasetFacts"/>: rows, the range of its targets or token ids, whether they are whole numbers,
/// and the first value that is not finite. A value cut by a chunk boundary is put together across it.
/// </summary>
public sealed class DatasetScanner
{
    private readonly string _format;
    private readonly int _features;
    private readonly int _targets;
    private readonly int _valueBytes;
    private readonly int _rowValues;
    private readonly byte[] _carry = new byte[4];
    private int _carried;
    private long _values;
    private long _bytes;
    private double _min = double.PositiveInfinity;
    private double _max = double.NegativeInfinity;
    private bool _integers = true;

    /// <param name="featuresPerRow">f32 formats: features per row; ignored for token formats.</param>
    /// <param name="targetsPerRow">"f32": targets per row; ignored otherwise.</param>
    public DatasetScanner(string format, int featuresPerRow, int targetsPerRow)
    {
        if (!DatasetFormats.IsKnown(format)) throw new ArgumentException($"unknown dataset format '{format}'", nameof(format));
        _format = format;
        _valueBytes = DatasetFormats.ValueBytes(format);
        _features = DatasetFormats.IsTokens(format) ? 0 : featuresPerRow;
        _targets = format == DatasetFormats.F32 ? targetsPerRow : 0;
        _rowValues = DatasetFormats.IsTokens(format) ? 1 : _features + _targets;
        if (_rowValues < 1) throw new ArgumentException("a row must hold at least one value", nameof(featuresPerRow));
    }

    /// <summary>Where the first non-finite float sits (row, column), if any: a NaN feature or target poisons training.</summary>
    public (long Row, int Column)? FirstNonFinite { get; private set; }

    public void Add(ReadOnlySpan<byte> bytes)
    {
        _bytes += bytes.Length;
        if (_carried > 0)
        {
            var take = Math.Min(_valueBytes - _carried, bytes.Length);
            bytes[..take].CopyTo(_carry.AsSpan(_carried));
            _carried += take;
            bytes = bytes[take..];
            if (_carried < _valueBytes) return;
            Value(_carry.AsSpan(0, _valueBytes));
            _carried = 0;
        }
        var whole = bytes.Length - bytes.Length % _valueBytes;
        for (var i = 0; i < whole; i += _valueBytes) Value(bytes.Slice(i, _valueBytes));
        bytes[whole..].CopyTo(_carry);
        _carried = bytes.Length - whole;
    }

    /// <summary>The facts of everything added; the caller has checked that the bytes are whole rows (or whole tokens).</summary>
    public DatasetFacts Facts()
    {
        var any = _min <= _max;
        return new DatasetFacts(_format, _features, _targets, _bytes, _values / _rowValues,
            any ? _min : double.NaN, any ? _max : double.NaN, _integers);
    }

    private void Value(ReadOnlySpan<byte> bytes)
    {
        var column = (int)(_values % _rowValues);
        var row = _values / _rowValues;
        _values++;
        double value = _format switch
        {
            DatasetFormats.U16 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
            DatasetFormats.U32 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
            _ => BinaryPrimitives.ReadSingleLittleEndian(bytes),
        };
        if (!double.IsFinite(value))
        {
            FirstNonFinite ??= (row, column);
            return;
        }
        if (column < _features) return;
        if (value < _min) _min = value;
        if (value > _max) _max = value;
        if (_integers && Math.Floor(value) != value) _integers = false;
    }
}
