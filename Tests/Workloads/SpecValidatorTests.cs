using Huginn.Workloads;
using Xunit;

namespace Huginn.Tests.Workloads;

public sealed class SpecValidatorTests
{
    private static readonly Dictionary<string, Func<JobSpec>> Broken = new()
    {
        ["kind undefined"] = () => ExampleSpecs.Train() with { Kind = (WorkloadKind)7 },
        ["no model"] = () => ExampleSpecs.Train() with { Model = null },
        ["prep without model"] = () => ExampleSpecs.Prep() with { Model = null },
        ["unknown model"] = () => ExampleSpecs.Train(ExampleSpecs.Mlp() with { Type = "rnn" }),
        ["zero input"] = () => ExampleSpecs.Train(ExampleSpecs.Mlp(input: 0)),
        ["negative output"] = () => ExampleSpecs.Train(ExampleSpecs.Mlp(output: -1)),
        ["unknown activation"] = () => ExampleSpecs.Train(ExampleSpecs.Mlp(activation: "gelu")),
        ["unknown loss"] = () => ExampleSpecs.Train(ExampleSpecs.Mlp(loss: "hinge")),
        ["one class"] = () => ExampleSpecs.Train(ExampleSpecs.Mlp(output: 1, loss: ModelSpec.CrossEntropy)),
        ["huge model"] = () => ExampleSpecs.Train(ExampleSpecs.Mlp(16384, [16384], 16384)),
        ["no dataset"] = () => ExampleSpecs.Train() with { Dataset = new DatasetSpec() },
        ["two datasets"] = () => ExampleSpecs.Train() with { Dataset = new DatasetSpec { BlobId = ExampleSpecs.SomeBlobId, Samples = 10, Synthetic = ExampleSpecs.Teacher() } },
        ["bad blob id"] = () => ExampleSpecs.Train() with { Dataset = new DatasetSpec { BlobId = "ABC", Samples = 10 } },
        ["blob without samples"] = () => ExampleSpecs.Train() with { Dataset = new DatasetSpec { BlobId = ExampleSpecs.SomeBlobId } },
        ["unknown format"] = () => ExampleSpecs.Train() with { Dataset = new DatasetSpec { BlobId = ExampleSpecs.SomeBlobId, Samples = 10, Format = "csv" } },
        ["unknown synthetic kind"] = () => ExampleSpecs.Train(data: ExampleSpecs.Teacher() with { Kind = "spiral" }),
        ["no synthetic samples"] = () => ExampleSpecs.Train(data: ExampleSpecs.Teacher(samples: 0)),
        ["negative noise"] = () => ExampleSpecs.Train(data: ExampleSpecs.Teacher(noise: -1)),
        ["conflicting samples"] = () => ExampleSpecs.Train() with { Dataset = new DatasetSpec { Synthetic = ExampleSpecs.Teacher(1000), Samples = 5 } },
        ["blobs of one class"] = () => ExampleSpecs.Train(ExampleSpecs.Mlp(output: 1), ExampleSpecs.Blobs()),
        ["unknown precision"] = () => ExampleSpecs.Train() with { Precision = "fp16" },
        ["bf16 prep"] = () => ExampleSpecs.Prep() with { Precision = NumericPrecision.Bf16 },
        ["zero rounds"] = () => ExampleSpecs.Train() with { Rounds = 0 },
        ["too many rounds"] = () => ExampleSpecs.Train() with { Rounds = 10_001 },
        ["infer in rounds"] = () => ExampleSpecs.Infer() with { Rounds = 2 },
        ["prep in rounds"] = () => ExampleSpecs.Prep() with { Rounds = 2 },
        ["zero shards"] = () => ExampleSpecs.Train() with { ShardsPerRound = 0 },
        ["too many shards"] = () => ExampleSpecs.Train() with { ShardsPerRound = 100_001 },
        ["more shards than samples"] = () => ExampleSpecs.Train(data: ExampleSpecs.Teacher(samples: 3)),
        ["zero steps"] = () => ExampleSpecs.Train() with { LocalSteps = 0 },
        ["zero batch"] = () => ExampleSpecs.Train() with { BatchSize = 0 },
        ["huge batch"] = () => ExampleSpecs.Train() with { BatchSize = 65_537 },
        ["zero learning rate"] = () => ExampleSpecs.Train() with { LearningRate = 0 },
        ["NaN learning rate"] = () => ExampleSpecs.Train() with { LearningRate = float.NaN },
        ["infinite learning rate"] = () => ExampleSpecs.Train() with { LearningRate = float.PositiveInfinity },
        ["prep without prep"] = () => ExampleSpecs.Prep() with { Prep = null },
        ["unknown prep"] = () => ExampleSpecs.Prep() with { Prep = new PrepSpec { Operation = "tokenize" } },
        ["zero scale"] = () => ExampleSpecs.Prep(scale: 0),
        ["bad weights blob"] = () => ExampleSpecs.Infer() with { WeightsBlobId = "nope" },
        ["prep with weights"] = () => ExampleSpecs.Prep() with { WeightsBlobId = ExampleSpecs.SomeBlobId },
        ["huge infer shard"] = () => ExampleSpecs.Infer(ExampleSpecs.Mlp(4, [8], 4096), samples: 100_000, shards: 1),
        ["huge job"] = () => ExampleSpecs.Train(ExampleSpecs.Mlp(2048, [2048, 2048], 2048)) with { Rounds = 10_000, ShardsPerRound = 1000, LocalSteps = SpecValidator.MaxLocalSteps, BatchSize = 65_536 },
    };

    [Theory]
    [InlineData("kind undefined", "kind")]
    [InlineData("no model", "model")]
    [InlineData("prep without model", "model")]
    [InlineData("unknown model", "model.type")]
    [InlineData("zero input", "model.inputSize")]
    [InlineData("negative output", "model.outputSize")]
    [InlineData("unknown activation", "model.activation")]
    [InlineData("unknown loss", "model.loss")]
    [InlineData("one class", "model.outputSize")]
    [InlineData("huge model", "model")]
    [InlineData("no dataset", "dataset")]
    [InlineData("two datasets", "dataset")]
    [InlineData("bad blob id", "dataset.blobId")]
    [InlineData("blob without samples", "dataset.samples")]
    [InlineData("unknown format", "dataset.format")]
    [InlineData("unknown synthetic kind", "dataset.synthetic.kind")]
    [InlineData("no synthetic samples", "dataset.synthetic.samples")]
    [InlineData("negative noise", "dataset.synthetic.noise")]
    [InlineData("conflicting samples", "dataset.samples")]
    [InlineData("blobs of one class", "model.outputSize")]
    [InlineData("zero rounds", "rounds")]
    [InlineData("too many rounds", "rounds")]
    [InlineData("infer in rounds", "rounds")]
    [InlineData("prep in rounds", "rounds")]
    [InlineData("zero shards", "shardsPerRound")]
    [InlineData("too many shards", "shardsPerRound")]
    [InlineData("more shards than samples", "shardsPerRound")]
    [InlineData("zero steps", "localSteps")]
    [InlineData("zero batch", "batchSize")]
    [InlineData("huge batch", "batchSize")]
    [InlineData("zero learning rate", "learningRate")]
    [InlineData("NaN learning rate", "learningRate")]
    [InlineData("infinite learning rate", "learningRate")]
    [InlineData("prep without prep", "prep")]
    [InlineData("unknown prep", "prep.operation")]
    [InlineData("zero scale", "prep.scale")]
    [InlineData("bad weights blob", "weightsBlobId")]
    [InlineData("prep with weights", "weightsBlobId")]
    [InlineData("huge infer shard", "shardsPerRound")]
    [InlineData("huge job", "rounds")]
    public void Validator_names_the_field(string problem, string field)
    {
        var errors = SpecValidator.Validate(Broken[problem]());

        var error = Assert.Single(errors);
        Assert.Equal(field, error.Field);
        Assert.False(string.IsNullOrWhiteSpace(error.Reason));
    }

    [Fact]
    public void Validator_names_the_element_of_a_list()
    {
        var errors = SpecValidator.Validate(ExampleSpecs.Train(ExampleSpecs.Mlp(4, [8, 0, 3], 2)));

        Assert.Equal([new SpecError("model.hiddenSizes[1]", "must be between 1 and 1048576")], errors);
    }

    [Fact]
    public void Validator_reports_every_problem_at_once()
    {
        var errors = SpecValidator.Validate(ExampleSpecs.Train() with { Rounds = 0, BatchSize = 0, LearningRate = -1 });

        Assert.Equal(["rounds", "batchSize", "learningRate"], errors.Select(e => e.Field));
    }

    [Fact]
    public void Example_specs_of_every_kind_and_model_are_valid()
    {
        Assert.Empty(SpecValidator.Validate(ExampleSpecs.Train()));
        Assert.Empty(SpecValidator.Validate(ExampleSpecs.Train(ExampleSpecs.Cnn(), ExampleSpecs.Blobs())));
        Assert.Empty(SpecValidator.Validate(ExampleSpecs.Train(ExampleSpecs.Transformer(), ExampleSpecs.Blobs())));
        Assert.Empty(SpecValidator.Validate(ExampleSpecs.Infer() with { WeightsBlobId = ExampleSpecs.SomeBlobId }));
        Assert.Empty(SpecValidator.Validate(ExampleSpecs.Prep()));
        Assert.Empty(SpecValidator.Validate(ExampleSpecs.Train() with { Dataset = new DatasetSpec { BlobId = ExampleSpecs.SomeBlobId, Samples = 10 } }));
        Assert.Empty(SpecValidator.Validate(ExampleSpecs.Train() with { Dataset = new DatasetSpec { Synthetic = ExampleSpecs.Teacher(1000), Samples = 1000 } }));
    }

    [Fact]
    public void Blob_ids_are_lowercase_hex_sha256()
    {
        Assert.True(SpecValidator.IsBlobId(ExampleSpecs.SomeBlobId));
        Assert.False(SpecValidator.IsBlobId(ExampleSpecs.SomeBlobId.ToUpperInvariant()));
        Assert.False(SpecValidator.IsBlobId(ExampleSpecs.SomeBlobId[1..]));
        Assert.False(SpecValidator.IsBlobId(null));
    }
}
