using Huginn.Workloads;
using Xunit;

namespace Huginn.Tests.Workloads;

public sealed class SyntheticDataTests
{
    public static TheoryData<string, string> Generators => new()
    {
        { SyntheticDatasetSpec.Teacher, ModelSpec.Mlp },
        { SyntheticDatasetSpec.Blobs, ModelSpec.Mlp },
        { SyntheticDatasetSpec.Teacher, ModelSpec.Cnn },
        { SyntheticDatasetSpec.Blobs, ModelSpec.Cnn },
        { SyntheticDatasetSpec.Teacher, ModelSpec.Transformer },
        { SyntheticDatasetSpec.Blobs, ModelSpec.Transformer },
    };

    private static ModelSpec Model(string type) => type switch
    {
        ModelSpec.Mlp => ExampleSpecs.Mlp(6, [8], 3, ModelSpec.CrossEntropy),
        ModelSpec.Cnn => ExampleSpecs.Cnn(),
        _ => ExampleSpecs.Transformer(),
    };

    private static SyntheticDatasetSpec Data(string kind, ulong seed = 7) =>
        new() { Kind = kind, Samples = 100, Seed = seed, Noise = 0.1 };

    [Theory]
    [MemberData(nameof(Generators))]
    public void Synthetic_slice_is_independent_of_how_the_dataset_is_split(string kind, string type)
    {
        var model = Model(type);
        var whole = SyntheticData.Generate(Data(kind), model, 0, 100);
        var head = SyntheticData.Generate(Data(kind), model, 0, 37);
        var tail = SyntheticData.Generate(Data(kind), model, 37, 63);

        Assert.Equal(whole.Features, head.Features.Concat(tail.Features));
        Assert.Equal(whole.Targets, head.Targets.Concat(tail.Targets));
        Assert.Equal(whole.Features.AsSpan(50 * whole.FeaturesPerSample, whole.FeaturesPerSample).ToArray(), SyntheticData.Generate(Data(kind), model, 50, 1).Features);
    }

    [Theory]
    [MemberData(nameof(Generators))]
    public void Synthetic_data_depends_on_the_seed(string kind, string type)
    {
        var model = Model(type);

        Assert.NotEqual(
            SyntheticData.Generate(Data(kind, 1), model, 0, 20).Features,
            SyntheticData.Generate(Data(kind, 2), model, 0, 20).Features);
    }

    [Fact]
    public void Synthetic_data_is_the_same_on_every_machine()
    {
        var teacher = SyntheticData.Generate(Data(SyntheticDatasetSpec.Teacher), ExampleSpecs.Mlp(6, [8], 3), 10, 20);
        var blobs = SyntheticData.Generate(Data(SyntheticDatasetSpec.Blobs), ExampleSpecs.Mlp(6, [8], 3, ModelSpec.CrossEntropy), 10, 20);
        var tokens = SyntheticData.Generate(Data(SyntheticDatasetSpec.Teacher), ExampleSpecs.Transformer() with { Loss = ModelSpec.Mse }, 10, 20);

        Assert.Equal(Golden.TeacherSliceDigest, Digest.Sha256Hex(SyntheticData.ToF32(teacher)));
        Assert.Equal(Golden.BlobsSliceDigest, Digest.Sha256Hex(SyntheticData.ToF32(blobs)));
        Assert.Equal(Golden.TokenSliceDigest, Digest.Sha256Hex(SyntheticData.ToF32(tokens)));
    }

    [Fact]
    public void Slice_has_the_model_shape()
    {
        var slice = SyntheticData.Generate(Data(SyntheticDatasetSpec.Teacher), ExampleSpecs.Mlp(6, [8], 3), 0, 10);

        Assert.Equal((10, 6, 3, 60, 30), (slice.Count, slice.FeaturesPerSample, slice.TargetsPerSample, slice.Features.Length, slice.Targets.Length));
    }

    [Fact]
    public void Blob_targets_are_class_indices_under_cross_entropy_and_one_hot_under_mse()
    {
        var classes = SyntheticData.Generate(Data(SyntheticDatasetSpec.Blobs), ExampleSpecs.Mlp(6, [8], 3, ModelSpec.CrossEntropy), 0, 100);
        var oneHot = SyntheticData.Generate(Data(SyntheticDatasetSpec.Blobs), ExampleSpecs.Mlp(6, [8], 3, ModelSpec.Mse), 0, 100);

        Assert.Equal([0f, 1f, 2f], classes.Targets.Distinct().Order());
        for (var i = 0; i < 100; i++)
        {
            var expected = new float[3];
            expected[(int)classes.Targets[i]] = 1f;
            Assert.Equal(expected, oneHot.TargetsOf(i).ToArray());
            Assert.Equal(classes.FeaturesOf(i).ToArray(), oneHot.FeaturesOf(i).ToArray());
        }
    }

    [Fact]
    public void Blobs_of_one_class_lie_close_together()
    {
        var data = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Blobs, Samples = 200, Seed = 3, Noise = 0.1 };
        var slice = SyntheticData.Generate(data, ExampleSpecs.Mlp(6, [8], 2, ModelSpec.CrossEntropy), 0, 200);
        var byClass = Enumerable.Range(0, slice.Count).GroupBy(i => slice.Targets[i]).ToDictionary(g => g.Key, g => g.ToArray());
        var first = byClass[0f];

        for (var j = 0; j < 6; j++)
        {
            var values = first.Select(i => slice.FeaturesOf(i)[j]).ToArray();
            Assert.InRange(values.Max() - values.Min(), 0f, 1f);
        }
    }

    [Fact]
    public void Teacher_classes_are_the_argmax_of_the_teacher_outputs()
    {
        var regression = SyntheticData.Generate(Data(SyntheticDatasetSpec.Teacher), ExampleSpecs.Mlp(6, [8], 3, ModelSpec.Mse), 0, 50);
        var classes = SyntheticData.Generate(Data(SyntheticDatasetSpec.Teacher), ExampleSpecs.Mlp(6, [8], 3, ModelSpec.CrossEntropy), 0, 50);

        for (var i = 0; i < 50; i++)
        {
            var y = regression.TargetsOf(i).ToArray();
            Assert.Equal(Array.IndexOf(y, y.Max()), (int)classes.Targets[i]);
        }
    }

    [Fact]
    public void Transformer_features_are_token_ids_within_the_vocabulary()
    {
        var slice = SyntheticData.Generate(Data(SyntheticDatasetSpec.Teacher), ExampleSpecs.Transformer(), 0, 100);

        Assert.All(slice.Features, t => Assert.True(t >= 0 && t < 100 && t == MathF.Floor(t)));
        Assert.Equal(16, slice.FeaturesPerSample);
    }

    [Fact]
    public void Transformer_blobs_use_mostly_tokens_of_their_class()
    {
        var model = ExampleSpecs.Transformer(); // 5 classes
        var slice = SyntheticData.Generate(Data(SyntheticDatasetSpec.Blobs), model, 0, 100);
        var ofClass = 0;
        for (var i = 0; i < slice.Count; i++)
        {
            var c = (int)slice.Targets[i];
            ofClass += slice.FeaturesOf(i).ToArray().Count(t => (int)t % 5 == c);
        }

        // 90% drawn from the class, plus a fifth of the 10% random ones.
        Assert.InRange(ofClass / 1600.0, 0.86, 0.98);
    }

    [Fact]
    public void Generate_rejects_samples_outside_the_dataset()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticData.Generate(Data(SyntheticDatasetSpec.Teacher), ExampleSpecs.Mlp(), 90, 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticData.Generate(Data(SyntheticDatasetSpec.Teacher), ExampleSpecs.Mlp(), -1, 1));
    }

    [Fact]
    public void F32_blob_rows_are_features_then_targets_little_endian()
    {
        var model = ExampleSpecs.Mlp(2, [4], 1);
        byte[] blob = [.. WeightsFormat.ToBytes([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f])];

        var slice = SyntheticData.ReadF32(blob, model, 1, 2);

        Assert.Equal([4f, 5f, 7f, 8f], slice.Features);
        Assert.Equal([6f, 9f], slice.Targets);
    }

    [Fact]
    public void F32_blob_round_trips_a_slice()
    {
        var model = ExampleSpecs.Mlp(6, [8], 3);
        var slice = SyntheticData.Generate(Data(SyntheticDatasetSpec.Teacher), model, 0, 30);

        var read = SyntheticData.ReadF32(SyntheticData.ToF32(slice), model, 10, 5);

        Assert.Equal(slice.Features.Skip(60).Take(30), read.Features);
        Assert.Equal(slice.Targets.Skip(30).Take(15), read.Targets);
    }

    [Fact]
    public void F32_blob_must_hold_whole_rows_and_the_requested_ones()
    {
        var model = ExampleSpecs.Mlp(2, [4], 1);

        Assert.Throws<ArgumentException>(() => SyntheticData.ReadF32(new byte[13], model, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticData.ReadF32(new byte[24], model, 1, 2));
    }

    [Fact]
    public void Shard_data_comes_from_the_generator_or_the_blob()
    {
        var spec = ExampleSpecs.Train();
        var shard = JobPlanner.Plan(spec).Shard(1, 2);
        var synthetic = ShardData.Load(spec, shard);
        var blob = SyntheticData.ToF32(SyntheticData.Generate(spec.Dataset.Synthetic!, spec.Model!, 0, 1000));
        var fromBlob = ShardData.Load(spec with { Dataset = new DatasetSpec { BlobId = Digest.Sha256Hex(blob), Samples = 1000 } }, shard, blob);

        Assert.Equal(shard.SampleCount, synthetic.Count);
        Assert.Equal(synthetic.Features, fromBlob.Features);
        Assert.Equal(synthetic.Targets, fromBlob.Targets);
    }
}
