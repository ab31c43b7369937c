using System.Buffers.Binary;
using Huginn.Workloads;
using Xunit;

namespace Huginn.Tests.Workloads;

/// <summary>The dataset formats' byte layouts (docs/DATASETS.md), the facts finalize learns, and the data checks.</summary>
public sealed class DatasetFormatTests
{
    private static readonly ModelSpec Mlp = new() { Type = ModelSpec.Mlp, InputSize = 2, HiddenSizes = [4], OutputSize = 3, Loss = ModelSpec.CrossEntropy };

    private static ModelSpec Transformer(int vocab = 50, int outputs = 50, string loss = ModelSpec.CrossEntropy) => new()
    {
        Type = ModelSpec.Transformer, VocabSize = vocab, SequenceLength = 4, ModelDim = 8, Heads = 2, Layers = 1, FeedForwardDim = 16,
        OutputSize = outputs, Loss = loss,
    };

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    private static byte[] U16(int count) => Enumerable.Range(0, count).SelectMany(t => BitConverter.GetBytes((ushort)t)).ToArray();

    private static JobSpec Spec(WorkloadKind kind, ModelSpec model, long samples = 0) =>
        new() { Kind = kind, Model = model, Dataset = new DatasetSpec { DatasetId = "ds_x", Samples = samples } };

    [Fact]
    public void Scanner_learns_rows_and_target_range_whatever_the_chunk_boundaries_cut()
    {
        // Rows of 2 features + 1 target; the targets are 2, 0, 7.
        var bytes = Floats(0.5f, 1.5f, 2, -3f, 4f, 0, 9f, 9.5f, 7);
        foreach (var cut in new[] { 1, 3, 5, 12, 13, bytes.Length })
        {
            var scanner = new DatasetScanner(DatasetFormats.F32, 2, 1);
            for (var at = 0; at < bytes.Length; at += cut) scanner.Add(bytes.AsSpan(at, Math.Min(cut, bytes.Length - at)));
            var facts = scanner.Facts();
            Assert.Equal(new DatasetFacts(DatasetFormats.F32, 2, 1, 36, 3, 0, 7, true), facts);
            Assert.Null(scanner.FirstNonFinite);
        }
    }

    [Fact]
    public void Scanner_finds_fractional_targets_and_the_first_value_that_is_not_finite()
    {
        var scanner = new DatasetScanner(DatasetFormats.F32, 1, 1);
        scanner.Add(Floats(1, 0.5f, 2, float.NaN));
        Assert.False(scanner.Facts().TargetsAreIntegers);
        Assert.Equal((1L, 1), scanner.FirstNonFinite);
    }

    [Fact]
    public void Token_streams_record_the_range_of_their_ids()
    {
        var scanner = new DatasetScanner(DatasetFormats.U32, 0, 0);
        scanner.Add(new byte[] { 5, 0, 0, 0, 0x10, 0x27 });
        scanner.Add(new byte[] { 0, 0 });
        var facts = scanner.Facts();
        Assert.Equal((2L, 5.0, 10_000.0), (facts.Rows, facts.TargetMin, facts.TargetMax));
    }

    [Fact]
    public void A_token_sample_is_a_window_of_sequenceLength_ids_and_its_target_the_next_one()
    {
        // Tokens 0 … 20 as u16: windows of 4; a training sample i is tokens 4i … 4i+3 with target 4i+4.
        var bytes = U16(21);
        var training = DatasetLayout.For(DatasetFormats.U16, Transformer(), readTargets: true);
        Assert.Equal(5, training.SampleCount(bytes.Length));
        // Samples 2 and 3 need tokens 8 … 16: bytes [16, 34), read from a piece that starts at byte 10.
        Assert.Equal((16L, 34L), training.ByteRange(2, 2));
        var slice = DatasetReader.Read(training, bytes.AsSpan(10), 10, 2, 2);
        Assert.Equal([8f, 9, 10, 11, 12, 13, 14, 15], slice.Features);
        Assert.Equal([12f, 16], slice.Targets);

        var inference = DatasetLayout.For(DatasetFormats.U16, Transformer(), readTargets: false);
        Assert.Equal(5, inference.SampleCount(bytes.Length));
        // 20 tokens: five windows to infer on, but four to train on (the fifth has no next token).
        Assert.Equal(5, inference.SampleCount(20 * 2));
        Assert.Equal(4, training.SampleCount(20 * 2));
        Assert.Equal(4, inference.SampleCount(19 * 2));
    }

    [Fact]
    public void Features_only_rows_read_with_zero_targets_and_say_what_a_row_is()
    {
        var layout = DatasetLayout.For(DatasetFormats.F32Features, Mlp, readTargets: false);
        var slice = DatasetReader.Read(layout, Floats(1, 2, 3, 4, 5, 6), 0, 1, 2);
        Assert.Equal([3f, 4, 5, 6], slice.Features);
        Assert.Equal([0f, 0], slice.Targets);
        Assert.Equal("\"f32-features\" rows of 2 float32 (2 features, no targets) = 8 bytes", layout.Describe());
        Assert.Equal("\"f32\" rows of 3 float32 (2 features + 1 target) = 12 bytes", DatasetLayout.For(DatasetFormats.F32, Mlp, true).Describe());
    }

    [Fact]
    public void Reading_past_the_bytes_at_hand_says_which_bytes_were_needed()
    {
        var layout = DatasetLayout.For(DatasetFormats.F32, Mlp, readTargets: true);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => DatasetReader.Read(layout, Floats(1, 2, 3), 12, 0, 1));
        Assert.Contains("need bytes [0, 12) of the dataset", error.Message);
    }

    [Fact]
    public void Checks_refuse_labels_past_outputSize_and_resolve_the_sample_count()
    {
        var facts = new DatasetFacts(DatasetFormats.F32, 2, 1, 120, 10, 0, 3, true);
        var refused = DatasetChecks.Check(Spec(WorkloadKind.Train, Mlp), facts);
        Assert.Equal([new SpecError("model.outputSize",
            "is 3, so cross_entropy takes classes 0 to 2; the dataset's labels reach 3: outputSize must be at least 4")], refused);
        // Inference does not read labels: nothing to refuse.
        Assert.Empty(DatasetChecks.Check(Spec(WorkloadKind.Infer, Mlp), facts));
        var fits = Mlp with { OutputSize = 4 };
        Assert.Empty(DatasetChecks.Check(Spec(WorkloadKind.Train, fits), facts));
        var resolved = DatasetChecks.Resolve(Spec(WorkloadKind.Train, fits), facts);
        Assert.Equal((10L, DatasetFormats.F32), (resolved.Dataset.Samples, resolved.Dataset.Format));
        Assert.Equal(6, DatasetChecks.Resolve(Spec(WorkloadKind.Train, fits, samples: 6), facts).Dataset.Samples);
    }

    [Fact]
    public void Checks_fit_token_streams_to_transformers_only_with_a_vocabulary_and_classes_that_hold_every_id()
    {
        var facts = new DatasetFacts(DatasetFormats.U16, 0, 0, 42, 21, 0, 20, true);
        Assert.Empty(DatasetChecks.Check(Spec(WorkloadKind.Train, Transformer(vocab: 21, outputs: 21)), facts));
        Assert.Equal(5, DatasetChecks.Resolve(Spec(WorkloadKind.Train, Transformer(vocab: 21, outputs: 21)), facts).Dataset.Samples);
        Assert.Equal(["model.vocabSize"], DatasetChecks.Check(Spec(WorkloadKind.Infer, Transformer(vocab: 20, outputs: 2)), facts).Select(e => e.Field));
        Assert.Equal(["model.outputSize"], DatasetChecks.Check(Spec(WorkloadKind.Train, Transformer(vocab: 21, outputs: 20)), facts).Select(e => e.Field));
        Assert.Equal(["model.loss"], DatasetChecks.Check(Spec(WorkloadKind.Train, Transformer(vocab: 21, outputs: 21, loss: ModelSpec.Mse)), facts).Select(e => e.Field));
        Assert.Equal(["model.type"], DatasetChecks.Check(Spec(WorkloadKind.Train, Mlp), facts).Select(e => e.Field));
    }

    [Fact]
    public void A_shard_reads_only_the_chunks_its_bytes_lie_in()
    {
        var chunks = new DatasetChunkList(100, ["a", "b", "c", "d"], 350);
        var spec = Spec(WorkloadKind.Train, Mlp) with { Dataset = new DatasetSpec { DatasetId = "ds_x", Format = DatasetFormats.F32 } };
        // Rows of 12 bytes: rows 8 … 16 are bytes [96, 204): chunks 0, 1 and 2.
        var shard = new ShardPlan { SampleOffset = 8, SampleCount = 9 };
        Assert.Equal(new[] { "a", "b", "c" }, chunks.ForShard(spec, shard).ChunkIds);
        // Rows 9 … 15 are bytes [108, 192): chunk 1 alone.
        var inner = chunks.ForShard(spec, shard with { SampleOffset = 9, SampleCount = 7 });
        Assert.Equal(1, inner.FirstChunk);
        Assert.Equal(["b"], inner.ChunkIds);
        Assert.Equal(100, inner.StartByte);
    }

    [Fact]
    public void A_spec_names_one_source_of_data_and_features_only_blobs_do_not_train()
    {
        var blob = new string('a', 64);
        var both = Spec(WorkloadKind.Train, Mlp, samples: 10) with { Dataset = new DatasetSpec { DatasetId = "ds_x", BlobId = blob, Samples = 10 } };
        Assert.Contains(new SpecError("dataset", "needs exactly one of datasetId, blobId or synthetic"), SpecValidator.Validate(both));
        var featuresBlob = Spec(WorkloadKind.Train, Mlp) with { Dataset = new DatasetSpec { BlobId = blob, Samples = 10, Format = DatasetFormats.F32Features } };
        Assert.Contains(SpecValidator.Validate(featuresBlob), e => e.Field == "dataset.format" && e.Reason.Contains("no targets"));
        Assert.DoesNotContain(SpecValidator.Validate(featuresBlob with { Kind = WorkloadKind.Infer }), e => e.Field.StartsWith("dataset", StringComparison.Ordinal));
        // A resolved dataset spec (format and samples filled in) validates like any other.
        Assert.Empty(SpecValidator.Validate(Spec(WorkloadKind.Train, Mlp, samples: 10) with
        {
            Dataset = new DatasetSpec { DatasetId = "ds_x", Samples = 10, Format = DatasetFormats.F32 },
        }));
    }
}
