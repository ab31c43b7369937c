using System.Buffers.Binary;

namespace Huginn.Workloads;

/// <summary>
/// Datasets as pure functions of (seed, sample index), so that any slice can be generated on any device without
/// moving data, and the same slice gives the same bits everywhere (only IEEE basic operations and
/// <see cref="DeterministicMath"/>). Also reads "f32" blobs into the same <see cref="DataSlice"/> shape.
/// </summary>
/// <remarks>
/// Sample i draws from its own stream <c>Derive(seed, 2, i)</c>. The teacher's matrices, the blob centres and the
/// teacher's token embeddings come from streams 1, 3 and 4. Under "cross_entropy" a target is a class index;
/// under "mse" the teacher's outputs or a one-hot class vector.
/// <list type="bullet">
/// <item>teacher: features N(0,1); y = tanh(x·A)·B + Noise·N(0,1) with A [features, 16] of N(0,1)/sqrt(features)
/// and B [16, outputs] of N(0,1)/4; the class under cross_entropy is argmax y (lowest index on ties).</item>
/// <item>blobs: class c uniform in [0, OutputSize); features = centre_c + Noise·N(0,1), centres 2·N(0,1).</item>
/// <item>transformer inputs are token ids. teacher: ids uniform; x = Σ E[id]/sqrt(SequenceLength) over positions
/// with E[id] 16 values of N(0,1), then as above with A [16, 16]. blobs: each position is, with probability
/// min(Noise, 1), a uniform id, else a uniform id ≡ c (mod OutputSize).</item>
/// </list>
/// </remarks>
public static class SyntheticData
{
    private const long TeacherStream = 1;
    private const long SampleStream = 2;
    private const long CenterStream = 3;
    private const long TokenStream = 4;
    private const int TeacherWidth = 16;

    /// <summary>Samples [offset, offset + count) of the dataset, shaped for model <paramref name="m"/>.</summary>
    public static DataSlice Generate(SyntheticDatasetSpec d, ModelSpec m, long offset, int count)
    {
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(m);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (offset + count > d.Samples)
            throw new ArgumentOutOfRangeException(nameof(count), $"Samples [{offset}, {offset + count}) are outside a dataset of {d.Samples}.");
        var definition = ValidModel(m);

        var shape = new Shape(
            definition.FeaturesPerSample(m),
            definition.TargetsPerSample(m),
            definition.OutputsPerSample(m),
            m.Loss == ModelSpec.CrossEntropy);
        var features = new float[checked(count * shape.Features)];
        var targets = new float[checked(count * shape.Targets)];
        var tokens = m.Type == ModelSpec.Transformer;

        Action<DeterministicRandom, Span<float>, Span<float>> sample = d.Kind switch
        {
            SyntheticDatasetSpec.Teacher when tokens => new TokenTeacher(d, m, shape).Sample,
            SyntheticDatasetSpec.Teacher => new FeatureTeacher(d, shape).Sample,
            SyntheticDatasetSpec.Blobs when tokens => new TokenBlobs(d, m, shape).Sample,
            SyntheticDatasetSpec.Blobs => new FeatureBlobs(d, shape).Sample,
            _ => throw new ArgumentException($"Unknown synthetic dataset kind '{d.Kind}'.", nameof(d)),
        };
        for (var i = 0; i < count; i++)
        {
            var random = new DeterministicRandom(DeterministicRandom.Derive(d.Seed, SampleStream, offset + i));
            sample(random, features.AsSpan(i * shape.Features, shape.Features), targets.AsSpan(i * shape.Targets, shape.Targets));
        }
        return new DataSlice(features, targets, count, shape.Features, shape.Targets);
    }

    /// <summary>Rows [offset, offset + count) of a blob in the "f32" format (see <see cref="DatasetSpec"/>).</summary>
    public static DataSlice ReadF32(ReadOnlySpan<byte> blob, ModelSpec m, long offset, int count)
    {
        ArgumentNullException.ThrowIfNull(m);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var definition = ValidModel(m);
        var featuresPerSample = definition.FeaturesPerSample(m);
        var targetsPerSample = definition.TargetsPerSample(m);
        var rowBytes = (long)(featuresPerSample + targetsPerSample) * sizeof(float);
        if (blob.Length % rowBytes != 0)
            throw new ArgumentException($"This model reads {DatasetLayout.For(DatasetFormats.F32, m, true).Describe()}; {blob.Length} bytes is not a whole number of them (inference input without targets is format \"f32-features\").", nameof(blob));
        var rows = blob.Length / rowBytes;
        if (offset + count > rows)
            throw new ArgumentOutOfRangeException(nameof(count), $"Rows [{offset}, {offset + count}) are outside a blob of {rows} rows.");
        // The rows themselves are read as a chunked dataset's are: one reader for the "f32" layout.
        return DatasetReader.Read(DatasetLayout.For(DatasetFormats.F32, m, readTargets: true), blob, 0, offset, count);
    }

    /// <summary>Writes samples as an "f32" blob, the inverse of <see cref="ReadF32"/>.</summary>
    public static byte[] ToF32(DataSlice slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        var rowFloats = slice.FeaturesPerSample + slice.TargetsPerSample;
        var bytes = new byte[checked(slice.Count * rowFloats * sizeof(float))];
        var position = 0;
        for (var i = 0; i < slice.Count; i++)
        {
            foreach (var value in slice.FeaturesOf(i))
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(position), value);
                position += sizeof(float);
            }
            foreach (var value in slice.TargetsOf(i))
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(position), value);
                position += sizeof(float);
            }
        }
        return bytes;
    }

    private static IModelDefinition ValidModel(ModelSpec m)
    {
        var definition = ModelRegistry.Get(m.Type);
        var errors = definition.Validate(m).ToList();
        if (errors.Count > 0)
            throw new ArgumentException($"Invalid model: {string.Join("; ", errors.Select(e => $"{e.Field} {e.Reason}"))}", nameof(m));
        return definition;
    }

    private readonly record struct Shape(int Features, int Targets, int Outputs, bool Classes);

    /// <summary>Fills the targets from the teacher's outputs y: y itself, or argmax y as a class.</summary>
    private static void WriteTargets(Shape shape, ReadOnlySpan<double> y, Span<float> targets)
    {
        if (!shape.Classes)
        {
            for (var o = 0; o < y.Length; o++) targets[o] = (float)y[o];
            return;
        }
        var best = 0;
        for (var o = 1; o < y.Length; o++)
        {
            if (y[o] > y[best]) best = o;
        }
        targets[0] = best;
    }

    private static void WriteClass(Shape shape, int c, Span<float> targets)
    {
        if (shape.Classes)
        {
            targets[0] = c;
            return;
        }
        targets.Clear();
        targets[c] = 1f;
    }

    private static double[] Gaussians(DeterministicRandom random, int count, double scale)
    {
        var values = new double[count];
        for (var i = 0; i < values.Length; i++) values[i] = random.NextGaussian() * scale;
        return values;
    }

    /// <summary>y = tanh(x·A)·B + Noise·N(0,1), with x of width A.Length / 16.</summary>
    private sealed class Teacher
    {
        private readonly double[] _a;
        private readonly double[] _b;
        private readonly double _noise;
        private readonly Shape _shape;

        public Teacher(SyntheticDatasetSpec d, Shape shape, int inputs)
        {
            var random = new DeterministicRandom(DeterministicRandom.Derive(d.Seed, TeacherStream));
            _a = Gaussians(random, checked(inputs * TeacherWidth), 1 / Math.Sqrt(inputs));
            _b = Gaussians(random, TeacherWidth * shape.Outputs, 1 / Math.Sqrt(TeacherWidth));
            _noise = d.Noise;
            _shape = shape;
        }

        public void Apply(ReadOnlySpan<double> x, DeterministicRandom random, Span<float> targets)
        {
            Span<double> hidden = stackalloc double[TeacherWidth];
            for (var j = 0; j < x.Length; j++)
            {
                var row = _a.AsSpan(j * TeacherWidth, TeacherWidth);
                for (var k = 0; k < TeacherWidth; k++) hidden[k] += x[j] * row[k];
            }
            for (var k = 0; k < TeacherWidth; k++) hidden[k] = DeterministicMath.Tanh(hidden[k]);

            var y = new double[_shape.Outputs];
            for (var o = 0; o < y.Length; o++)
            {
                var sum = 0.0;
                for (var k = 0; k < TeacherWidth; k++) sum += hidden[k] * _b[k * y.Length + o];
                y[o] = sum + _noise * random.NextGaussian();
            }
            WriteTargets(_shape, y, targets);
        }
    }

    private sealed class FeatureTeacher(SyntheticDatasetSpec d, Shape shape)
    {
        private readonly Teacher _teacher = new(d, shape, shape.Features);

        public void Sample(DeterministicRandom random, Span<float> features, Span<float> targets)
        {
            var x = new double[features.Length];
            for (var j = 0; j < features.Length; j++)
            {
                features[j] = (float)random.NextGaussian();
                x[j] = features[j];
            }
            _teacher.Apply(x, random, targets);
        }
    }

    private sealed class TokenTeacher
    {
        private readonly Teacher _teacher;
        private readonly Dictionary<int, double[]> _embeddings = [];
        private readonly ulong _seed;
        private readonly int _vocabulary;
        private readonly double _scale;

        public TokenTeacher(SyntheticDatasetSpec d, ModelSpec m, Shape shape)
        {
            _teacher = new Teacher(d, shape, TeacherWidth);
            _seed = d.Seed;
            _vocabulary = m.VocabSize;
            _scale = 1 / Math.Sqrt(m.SequenceLength);
        }

        public void Sample(DeterministicRandom random, Span<float> features, Span<float> targets)
        {
            Span<double> x = stackalloc double[TeacherWidth];
            for (var p = 0; p < features.Length; p++)
            {
                var token = random.NextInt(_vocabulary);
                features[p] = token;
                var embedding = Embedding(token);
                for (var k = 0; k < TeacherWidth; k++) x[k] += embedding[k];
            }
            for (var k = 0; k < TeacherWidth; k++) x[k] *= _scale;
            _teacher.Apply(x, random, targets);
        }

        private double[] Embedding(int token)
        {
            if (!_embeddings.TryGetValue(token, out var embedding))
            {
                embedding = Gaussians(new DeterministicRandom(DeterministicRandom.Derive(_seed, TokenStream, token)), TeacherWidth, 1);
                _embeddings[token] = embedding;
            }
            return embedding;
        }
    }

    private sealed class FeatureBlobs(SyntheticDatasetSpec d, Shape shape)
    {
        private readonly Dictionary<int, double[]> _centers = [];

        public void Sample(DeterministicRandom random, Span<float> features, Span<float> targets)
        {
            var c = random.NextInt(shape.Outputs);
            var center = Center(c);
            for (var j = 0; j < features.Length; j++) features[j] = (float)(center[j] + d.Noise * random.NextGaussian());
            WriteClass(shape, c, targets);
        }

        private double[] Center(int c)
        {
            if (!_centers.TryGetValue(c, out var center))
            {
                center = Gaussians(new DeterministicRandom(DeterministicRandom.Derive(d.Seed, CenterStream, c)), shape.Features, 2);
                _centers[c] = center;
            }
            return center;
        }
    }

    private sealed class TokenBlobs(SyntheticDatasetSpec d, ModelSpec m, Shape shape)
    {
        private readonly double _randomShare = Math.Clamp(d.Noise, 0, 1);

        public void Sample(DeterministicRandom random, Span<float> features, Span<float> targets)
        {
            var classes = shape.Outputs;
            var c = random.NextInt(classes);
            var sameClass = (m.VocabSize - 1 - c) / classes + 1;
            for (var p = 0; p < features.Length; p++)
            {
                features[p] = random.NextDouble() < _randomShare
                    ? random.NextInt(m.VocabSize)
                    : c + classes * random.NextInt(sameClass);
            }
            WriteClass(shape, c, targets);
        }
    }
}
