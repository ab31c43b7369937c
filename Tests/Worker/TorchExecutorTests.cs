using Huginn.Grains.Rules;
using Huginn.Tests.Workloads;
using Huginn.Worker.Agent;
using Huginn.Worker.Execution;
using Huginn.Workloads;

namespace Huginn.Tests.Worker;

[Collection(TorchCollection.Name), Trait("Category", "Torch")]
public sealed class TorchExecutorTests(TorchFixture fixture)
{
    private static readonly ToleranceOptions Tolerances = new();

    private static ModelSpec SmallTransformer(string activation = ModelSpec.Relu) => new()
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

    private static ModelSpec SmallCnn(string activation = ModelSpec.Relu) => ExampleSpecs.Cnn() with { Activation = activation };

    [Theory]
    [InlineData(ModelSpec.Relu, ModelSpec.Mse)]
    [InlineData(ModelSpec.Tanh, ModelSpec.Mse)]
    [InlineData(ModelSpec.Relu, ModelSpec.CrossEntropy)]
    [InlineData(ModelSpec.Tanh, ModelSpec.CrossEntropy)]
    public void Torch_training_shard_matches_the_reference_executor_within_tolerance(string activation, string loss)
    {
        var data = loss == ModelSpec.Mse ? ExampleSpecs.Teacher(1024) : ExampleSpecs.Blobs(1024, noise: 1);
        var spec = ExampleSpecs.Train(ExampleSpecs.Mlp(8, [16, 16], 4, loss, activation), data) with { LocalSteps = 10, BatchSize = 16 };
        var shard = JobPlanner.Plan(spec).Shard(0, 2);
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);
        var slice = ShardData.Load(spec, shard);

        var output = fixture.Executor.Execute(spec, shard, weights, slice);
        var reference = ReferenceExecutor.Execute(spec, shard, weights, slice);

        var distance = TensorComparison.RelativeL2(output.Values, reference.Values);
        Assert.True(distance <= Tolerances.Train, $"relative L2 {distance} over the train tolerance {Tolerances.Train}");
        Assert.True(Verification.Agree(WorkloadKind.Train, output, reference, Tolerances.Train).Agree);
        Assert.Equal(reference.Loss, output.Loss, 1e-5 * reference.Loss);
        Assert.Equal(10 * 16, output.Samples);
        Assert.Equal(weights.Length, output.Values.Length);
        Assert.Empty(output.Bytes);
    }

    /// <summary>
    /// libtorch runs bfloat16 on a CPU too, so the bf16 path is exercised here although the pool routes bf16 shards to
    /// GPUs only: its result is repeatable, farther from fp32 than the fp32 tolerance (so bf16 really computed), and
    /// within the bf16 tolerance of the same computation in another summation order.
    /// </summary>
    [Theory]
    [InlineData(ModelSpec.Mlp)]
    [InlineData(ModelSpec.Cnn)]
    [InlineData(ModelSpec.Transformer)]
    public void Bf16_training_shard_is_repeatable_and_lands_where_bf16_rounding_puts_it(string type)
    {
        var (model, data) = type switch
        {
            ModelSpec.Mlp => (ExampleSpecs.Mlp(8, [32, 32], 4), ExampleSpecs.Teacher(1024)),
            ModelSpec.Cnn => (SmallCnn(), ExampleSpecs.Blobs(1024, noise: 1)),
            _ => (SmallTransformer(), ExampleSpecs.Blobs(1024, noise: 0.3)),
        };
        var spec = ExampleSpecs.Train(model, data) with { LocalSteps = 10, BatchSize = 16, LearningRate = 0.1f, Precision = NumericPrecision.Bf16 };
        var shard = JobPlanner.Plan(spec).Shard(0, 1);
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);
        var slice = ShardData.Load(spec, shard);

        var bf16 = fixture.Executor.Execute(spec, shard, weights, slice);
        var again = fixture.Executor.Execute(spec, shard, weights, slice);
        var fp32 = fixture.Executor.Execute(spec with { Precision = NumericPrecision.Fp32 }, shard, weights, slice);
        var shortcut = fixture.Executor.Execute(spec, shard with { Steps = shard.Steps - 1 }, weights, slice);

        Assert.Equal(bf16.Values, again.Values);
        Assert.All(bf16.Values, v => Assert.True(float.IsFinite(v)));
        Assert.True(double.IsFinite(bf16.Loss) && bf16.Loss > 0, $"loss {bf16.Loss}");
        var fromFp32 = TensorComparison.RelativeL2(bf16.Values, fp32.Values);
        Assert.InRange(fromFp32, Tolerances.Train, 0.5);
        Assert.True(TensorComparison.RelativeL2(bf16.Values, shortcut.Values) > Tolerances.For(WorkloadKind.Train, NumericPrecision.Bf16));
    }

    [Fact]
    public void Bf16_inference_stays_within_the_bf16_tolerance_of_fp32_outputs()
    {
        var spec = ExampleSpecs.Infer(SmallCnn(), samples: 256, shards: 2) with { Precision = NumericPrecision.Bf16 };
        var shard = JobPlanner.Plan(spec).Shard(0, 0);
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);
        var slice = ShardData.Load(spec, shard);

        var bf16 = fixture.Executor.Execute(spec, shard, weights, slice);
        var fp32 = fixture.Executor.Execute(spec with { Precision = NumericPrecision.Fp32 }, shard, weights, slice);

        Assert.InRange(TensorComparison.RelativeL2(bf16.Values, fp32.Values), Tolerances.Infer, Tolerances.For(WorkloadKind.Infer, NumericPrecision.Bf16));
    }

    [Fact]
    public void Torch_training_reduces_loss_over_rounds()
    {
        var spec = ExampleSpecs.Train(ExampleSpecs.Mlp(8, [16], 2), ExampleSpecs.Teacher(1024, seed: 3, noise: 0.05)) with
        {
            Rounds = 8,
            ShardsPerRound = 4,
            LocalSteps = 10,
            BatchSize = 32,
            LearningRate = 0.05f,
        };
        var all = ShardData.Load(spec, new ShardPlan { SampleCount = 1024 });
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);
        var initial = ReferenceExecutor.Evaluate(spec.Model!, weights, all);

        var (trained, _) = TrainRounds(spec, weights);

        var final = ReferenceExecutor.Evaluate(spec.Model!, trained, all);
        Assert.True(final < 0.5 * initial, $"loss went from {initial} to {final}");
    }

    [Theory]
    [InlineData(ModelSpec.Cnn)]
    [InlineData(ModelSpec.Transformer)]
    public void Cnn_and_transformer_training_reduce_the_shard_loss_over_rounds(string type)
    {
        var model = type == ModelSpec.Cnn ? SmallCnn() : SmallTransformer();
        var spec = ExampleSpecs.Train(model, ExampleSpecs.Blobs(512, seed: 5, noise: type == ModelSpec.Cnn ? 1 : 0.3)) with
        {
            Rounds = 6,
            ShardsPerRound = 2,
            LocalSteps = 10,
            BatchSize = 16,
            LearningRate = 0.1f,
        };

        var (_, losses) = TrainRounds(spec, ModelInitializer.Initialize(model, spec.Seed));

        Assert.True(losses[^1] < 0.7 * losses[0], $"mean shard loss went from {losses[0]} to {losses[^1]}");
    }

    [Theory]
    [InlineData(ModelSpec.Cnn)]
    [InlineData(ModelSpec.Transformer)]
    public void Cnn_and_transformer_training_shards_return_a_delta_of_the_layout_size_and_finite_values(string type)
    {
        var model = type == ModelSpec.Cnn ? ExampleSpecs.Cnn() : ExampleSpecs.Transformer();
        var spec = ExampleSpecs.Train(model, ExampleSpecs.Blobs(256)) with { LocalSteps = 3, BatchSize = 8 };
        var shard = JobPlanner.Plan(spec).Shard(0, 1);
        var weights = ModelInitializer.Initialize(model, spec.Seed);

        var output = fixture.Executor.Execute(spec, shard, weights, ShardData.Load(spec, shard));

        var layout = ModelRegistry.Get(type).Layout(model);
        Assert.Equal(layout.Sum(t => t.Size), output.Values.Length);
        Assert.Equal(ModelRegistry.Get(type).ParameterCount(model), output.Values.Length);
        Assert.All(output.Values, value => Assert.True(float.IsFinite(value)));
        // Every tensor of the layout is trained: a view cut in the wrong place would leave some without gradient.
        var offset = 0;
        foreach (var tensor in layout)
        {
            Assert.True(output.Values.AsSpan(offset, (int)tensor.Size).ContainsAnyExcept(0f), $"{tensor.Name} did not change");
            offset += (int)tensor.Size;
        }
        Assert.True(double.IsFinite(output.Loss) && output.Loss > 0, $"loss {output.Loss}");
        Assert.Equal(3 * 8, output.Samples);
        Assert.Empty(output.Bytes);
    }

    [Theory]
    [InlineData(ModelSpec.Cnn)]
    [InlineData(ModelSpec.Transformer)]
    public void Training_step_follows_the_gradient_of_the_plain_loop_network(string type)
    {
        // tanh: no ReLU kink inside the finite-difference step.
        var model = type == ModelSpec.Cnn ? SmallCnn(ModelSpec.Tanh) with { ImageSize = 4, ConvChannels = [2], OutputSize = 3 } : SmallTransformer(ModelSpec.Tanh);
        var spec = ExampleSpecs.Train(model, ExampleSpecs.Blobs(4)) with { LearningRate = 1, LocalSteps = 1, BatchSize = 1 };
        var weights = ModelInitializer.Initialize(model, 22);
        var shard = new ShardPlan { SampleCount = 1, Steps = 1, BatchSize = 1, Seed = 1 };
        var data = ShardData.Load(spec, shard);

        var step = fixture.Executor.Execute(spec, shard, weights, data);

        var numeric = new float[weights.Length];
        for (var j = 0; j < weights.Length; j++)
        {
            var plus = (float[])weights.Clone();
            var minus = (float[])weights.Clone();
            plus[j] += 1e-3f;
            minus[j] -= 1e-3f;
            numeric[j] = (float)((PlainNetworks.Loss(model, plus, data) - PlainNetworks.Loss(model, minus, data)) / ((double)plus[j] - minus[j]));
        }
        var analytic = step.Values.Select(d => -d).ToArray();
        var distance = TensorComparison.RelativeL2(analytic, numeric);
        Assert.True(distance < 1e-4, $"relative L2 {distance}");
        Assert.Equal(PlainNetworks.Loss(model, weights, data), step.Loss, 1e-5);
    }

    [Fact]
    public void Torch_inference_matches_the_reference()
    {
        var spec = ExampleSpecs.Infer(ExampleSpecs.Mlp(6, [16, 8], 3), samples: 300, shards: 3);
        var shard = JobPlanner.Plan(spec).Shard(0, 1);
        var weights = ModelInitializer.Initialize(spec.Model!, 1);
        var data = ShardData.Load(spec, shard);

        var output = fixture.Executor.Execute(spec, shard, weights, data);
        var reference = ReferenceExecutor.Execute(spec, shard, weights, data);

        var distance = TensorComparison.RelativeL2(output.Values, reference.Values);
        Assert.True(distance <= Tolerances.Infer, $"relative L2 {distance} over the infer tolerance {Tolerances.Infer}");
        Assert.Equal(100 * 3, output.Values.Length);
        Assert.Equal(100, output.Samples);
        Assert.True(double.IsNaN(output.Loss));
        Assert.Empty(output.Bytes);
    }

    [Theory]
    [InlineData(ModelSpec.Cnn)]
    [InlineData(ModelSpec.Transformer)]
    public void Cnn_and_transformer_inference_match_the_plain_loop_network_of_the_layout(string type)
    {
        var model = type == ModelSpec.Cnn ? ExampleSpecs.Cnn() : SmallTransformer();
        var spec = ExampleSpecs.Infer(model, samples: 60, shards: 2) with { Dataset = new DatasetSpec { Synthetic = ExampleSpecs.Blobs(60) } };
        var shard = JobPlanner.Plan(spec).Shard(0, 1);
        var weights = ModelInitializer.Initialize(model, 3);
        var data = ShardData.Load(spec, shard);

        var output = fixture.Executor.Execute(spec, shard, weights, data);

        var expected = Enumerable.Range(0, data.Count).SelectMany(i => PlainNetworks.Forward(model, weights, data.FeaturesOf(i))).Select(v => (float)v).ToArray();
        var distance = TensorComparison.RelativeL2(output.Values, expected);
        Assert.True(distance < 1e-5, $"relative L2 {distance}");
        Assert.Equal(30 * model.OutputSize, output.Values.Length);
        Assert.Equal(30, output.Samples);
    }

    [Fact]
    public void Prep_output_is_bit_exact_with_the_reference()
    {
        var spec = ExampleSpecs.Prep(samples: 1000, shards: 4, scale: 0.05f);
        var shard = JobPlanner.Plan(spec).Shard(0, 1);
        var data = ShardData.Load(spec, shard);

        var output = fixture.Executor.Execute(spec, shard, [], data);
        var reference = ReferenceExecutor.Execute(spec, shard, [], data);

        Assert.Equal(reference.Bytes, output.Bytes);
        Assert.Equal(Golden.QuantizedDigest, Digest.Sha256Hex(output.Bytes));
        Assert.True(Verification.Agree(WorkloadKind.Prep, output, reference, tolerance: 0).Agree);
        Assert.Empty(output.Values);
        Assert.Equal(250, output.Samples);
        Assert.True(double.IsNaN(output.Loss));
    }

    [Theory]
    [InlineData(ModelSpec.Mlp)]
    [InlineData(ModelSpec.Cnn)]
    [InlineData(ModelSpec.Transformer)]
    public void Same_shard_twice_gives_the_same_result_within_1e_6(string type)
    {
        var model = type switch
        {
            ModelSpec.Mlp => ExampleSpecs.Mlp(8, [16], 4, ModelSpec.CrossEntropy),
            ModelSpec.Cnn => ExampleSpecs.Cnn(),
            _ => SmallTransformer(),
        };
        var spec = ExampleSpecs.Train(model, ExampleSpecs.Blobs(256)) with { LocalSteps = 5, BatchSize = 16 };
        var shard = JobPlanner.Plan(spec).Shard(0, 3);
        var weights = ModelInitializer.Initialize(model, spec.Seed);
        var data = ShardData.Load(spec, shard);

        var first = fixture.Executor.Execute(spec, shard, weights, data);
        var second = fixture.Executor.Execute(spec, shard, weights, data);

        Assert.True(TensorComparison.RelativeL2(first.Values, second.Values) <= 1e-6);
        Assert.Equal(first.Loss, second.Loss, 1e-6);
    }

    [Fact]
    public void Weights_of_the_wrong_length_are_rejected()
    {
        var spec = ExampleSpecs.Train(ExampleSpecs.Cnn(), ExampleSpecs.Blobs());
        var shard = JobPlanner.Plan(spec).Shard(0, 0);

        var error = Assert.Throws<ShardFailureException>(() => fixture.Executor.Execute(spec, shard, new float[3], ShardData.Load(spec, shard)));
        Assert.Contains("3 weights", error.Message);
        Assert.Equal(ShardErrorCodes.InvalidWeights, error.Code);
    }

    [Fact]
    public void Class_index_outside_the_model_is_rejected()
    {
        var spec = ExampleSpecs.Train(ExampleSpecs.Mlp(2, [], 2, ModelSpec.CrossEntropy)) with { LocalSteps = 1, BatchSize = 1 };
        var data = new DataSlice([1f, 2f], [5f], 1, 2, 1);
        var shard = new ShardPlan { SampleCount = 1, Steps = 1, BatchSize = 1, Seed = 1 };

        var error = Assert.Throws<ShardFailureException>(() => fixture.Executor.Execute(spec, shard, new float[6], data));
        Assert.Contains("Class index 5", error.Message);
        // What the worker sends: the deterministic code and the message, which names the classes the model has.
        var report = ShardFailureReport.From(error);
        Assert.Equal(ShardErrorCodes.InvalidData, report.Code);
        Assert.Equal("Class index 5 is not one of the model's 2 classes (outputSize 2: labels 0 to 1).", report.Text);
    }

    [Fact]
    public void Token_id_outside_the_vocabulary_is_rejected()
    {
        var model = SmallTransformer();
        var spec = ExampleSpecs.Infer(model, samples: 1, shards: 1);
        var data = new DataSlice([1f, 2f, 10f, 0f], [0f], 1, 4, 1);

        var error = Assert.Throws<ShardFailureException>(() =>
            fixture.Executor.Execute(spec, new ShardPlan { SampleCount = 1 }, ModelInitializer.Initialize(model, 1), data));
        Assert.Contains("Token id 10", error.Message);
        Assert.Equal(ShardErrorCodes.InvalidData, error.Code);
    }

    /// <summary>Trains the way the coordinator does: every shard of a round from its weights, then the average.</summary>
    private (float[] Weights, double[] MeanShardLosses) TrainRounds(JobSpec spec, float[] weights)
    {
        var plan = JobPlanner.Plan(spec);
        var losses = new double[spec.Rounds];
        for (var round = 0; round < spec.Rounds; round++)
        {
            var average = new FederatedAverage(weights.Length);
            foreach (var shard in plan.Shards(round))
            {
                var output = fixture.Executor.Execute(spec, shard, weights, ShardData.Load(spec, shard));
                average.Add(output.Values, output.Samples);
                losses[round] += output.Loss / spec.ShardsPerRound;
            }
            weights = average.ApplyTo(weights);
        }
        return (weights, losses);
    }
}
