using Huginn.Workloads;
using Xunit;

namespace Huginn.Tests.Workloads;

public sealed class ReferenceExecutorTests
{
    [Fact]
    public void Training_shard_reduces_loss_on_teacher_data()
    {
        var spec = ExampleSpecs.Train(ExampleSpecs.Mlp(8, [16], 2), ExampleSpecs.Teacher(2048, seed: 3, noise: 0.05)) with
        {
            Rounds = 20, ShardsPerRound = 4, LocalSteps = 10, BatchSize = 32, LearningRate = 0.05f,
        };
        var (initial, final, losses) = Train(spec);

        Assert.True(final < 0.5 * initial, $"loss went from {initial} to {final}");
        Assert.True(losses[^1] < losses[0], $"shard losses went from {losses[0]} to {losses[^1]}");
    }

    [Fact]
    public void Training_shard_reduces_cross_entropy_on_blobs()
    {
        var spec = ExampleSpecs.Train(ExampleSpecs.Mlp(8, [16], 4, ModelSpec.CrossEntropy), ExampleSpecs.Blobs(1024, seed: 5, noise: 1)) with
        {
            Rounds = 10, ShardsPerRound = 4, LocalSteps = 10, BatchSize = 16, LearningRate = 0.05f,
        };
        var (initial, final, _) = Train(spec);

        Assert.True(final < 0.25 * initial, $"loss went from {initial} to {final}");
    }

    [Fact]
    public void Training_shard_is_bit_reproducible()
    {
        var spec = ExampleSpecs.Train();
        var shard = JobPlanner.Plan(spec).Shard(1, 3);
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);

        var a = ReferenceExecutor.Execute(spec, shard, weights, ShardData.Load(spec, shard));
        var b = ReferenceExecutor.Execute(spec, shard, weights, ShardData.Load(spec, shard));

        Assert.Equal(a.Values, b.Values);
        Assert.Equal(a.Loss, b.Loss);
        Assert.Equal(5 * 32, a.Samples);
        Assert.Empty(a.Bytes);
        Assert.Equal(weights.Length, a.Values.Length);
    }

    [Fact]
    public void Training_loss_is_the_mean_loss_of_the_sampled_batch()
    {
        var spec = ExampleSpecs.Train() with { LocalSteps = 1, BatchSize = 8 };
        var shard = JobPlanner.Plan(spec).Shard(0, 0);
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);
        var data = ShardData.Load(spec, shard);
        var batch = new MiniBatchSampler(shard.Seed, data.Count).NextBatch(8);
        var sampled = new DataSlice(
            batch.SelectMany(i => data.FeaturesOf(i).ToArray()).ToArray(),
            batch.SelectMany(i => data.TargetsOf(i).ToArray()).ToArray(),
            8, data.FeaturesPerSample, data.TargetsPerSample);

        var output = ReferenceExecutor.Execute(spec, shard, weights, data);

        Assert.Equal(ReferenceExecutor.Evaluate(spec.Model!, weights, sampled), output.Loss);
    }

    [Theory]
    [InlineData(ModelSpec.Tanh, ModelSpec.Mse)]
    [InlineData(ModelSpec.Relu, ModelSpec.CrossEntropy)]
    public void Reference_gradients_match_finite_differences(string activation, string loss)
    {
        var model = ExampleSpecs.Mlp(3, [4], 3, loss, activation);
        var spec = ExampleSpecs.Train(model) with { LearningRate = 1 };
        // Seed 22 leaves no ReLU within the finite-difference step of its kink, where the two gradients rightly differ.
        var weights = ModelInitializer.Initialize(model, 22);
        var data = new DataSlice([0.5f, -1.25f, 2f], loss == ModelSpec.Mse ? [0.3f, -0.7f, 1.1f] : [2f], 1, 3, loss == ModelSpec.Mse ? 3 : 1);
        var shard = new ShardPlan { SampleCount = 1, Steps = 1, BatchSize = 1, Seed = 1 };

        var step = ReferenceExecutor.Execute(spec, shard, weights, data);

        var numeric = new float[weights.Length];
        for (var j = 0; j < weights.Length; j++)
        {
            var plus = (float[])weights.Clone();
            var minus = (float[])weights.Clone();
            plus[j] += 1e-3f;
            minus[j] -= 1e-3f;
            var difference = ReferenceExecutor.Evaluate(model, plus, data) - ReferenceExecutor.Evaluate(model, minus, data);
            numeric[j] = (float)(difference / ((double)plus[j] - minus[j]));
        }
        var analytic = step.Values.Select(d => -d).ToArray();
        Assert.True(TensorComparison.RelativeL2(analytic, numeric) < 1e-4, $"relative L2 {TensorComparison.RelativeL2(analytic, numeric)}");
    }

    [Fact]
    public void Infer_returns_the_raw_outputs_of_every_sample()
    {
        var spec = ExampleSpecs.Infer(ExampleSpecs.Mlp(2, [], 1));
        var data = new DataSlice([2f, 3f, 1f, 1f], [0f, 0f], 2, 2, 1);

        var output = ReferenceExecutor.Execute(spec, new ShardPlan { SampleCount = 2 }, [0.5f, -1f, 0.25f], data);

        Assert.Equal([-1.75f, -0.25f], output.Values);
        Assert.Equal(2, output.Samples);
        Assert.True(double.IsNaN(output.Loss));
        Assert.Empty(output.Bytes);
    }

    [Fact]
    public void Infer_shard_has_one_row_of_outputs_per_sample()
    {
        var spec = ExampleSpecs.Infer(ExampleSpecs.Mlp(6, [8], 3), samples: 100, shards: 3);
        var shard = JobPlanner.Plan(spec).Shard(0, 1);

        var output = ReferenceExecutor.Execute(spec, shard, ModelInitializer.Initialize(spec.Model!, 1), ShardData.Load(spec, shard));

        Assert.Equal(shard.SampleCount * 3, output.Values.Length);
        Assert.Equal(shard.SampleCount, output.Samples);
    }

    [Fact]
    public void Quantize_rounds_half_to_even_and_clamps()
    {
        float[] inputs = [0.25f, 0.75f, -0.25f, 1.25f, -0.75f, 100f, -100f, float.NaN, 0.4f, float.PositiveInfinity, float.NegativeInfinity, 63.5f];

        var quantized = inputs.Select(x => PrepOperations.QuantizeInt8(x, 0.5f)).ToArray();

        Assert.Equal([0, 2, 0, 2, -2, 127, -127, 0, 1, 127, -127, 127], quantized.Select(q => (int)q));
    }

    [Fact]
    public void Quantize_output_is_bit_exact_and_digest_stable()
    {
        var spec = ExampleSpecs.Prep(samples: 1000, shards: 4, scale: 0.05f);
        var shard = JobPlanner.Plan(spec).Shard(0, 1);
        var data = ShardData.Load(spec, shard);

        var output = ReferenceExecutor.Execute(spec, shard, [], data);

        Assert.Equal(250 * 4, output.Bytes.Length);
        Assert.Equal(data.Features.Select(x => (byte)PrepOperations.QuantizeInt8(x, 0.05f)), output.Bytes);
        Assert.Equal(Golden.QuantizedDigest, Digest.Sha256Hex(output.Bytes));
        Assert.Equal(Digest.Sha256Hex(output.Bytes), Digest.Sha256Hex(ReferenceExecutor.Execute(spec, shard, [], ShardData.Load(spec, shard)).Bytes));
        Assert.Empty(output.Values);
        Assert.Equal(250, output.Samples);
    }

    [Fact]
    public void Only_mlp_models_run_in_the_reference_executor()
    {
        var spec = ExampleSpecs.Train(ExampleSpecs.Cnn(), ExampleSpecs.Blobs());
        var shard = JobPlanner.Plan(spec).Shard(0, 0);
        var data = ShardData.Load(spec, shard);

        var error = Assert.Throws<NotSupportedException>(() => ReferenceExecutor.Execute(spec, shard, ModelInitializer.Initialize(spec.Model!, 1), data));
        Assert.Contains("cnn", error.Message);
    }

    [Fact]
    public void Weights_of_the_wrong_length_are_rejected()
    {
        var spec = ExampleSpecs.Train();
        var shard = JobPlanner.Plan(spec).Shard(0, 0);

        Assert.Throws<ArgumentException>(() => ReferenceExecutor.Execute(spec, shard, new float[3], ShardData.Load(spec, shard)));
    }

    /// <summary>Runs a training job the way the coordinator does: every shard from the round's weights, then the average.</summary>
    private static (double Initial, double Final, List<double> ShardLosses) Train(JobSpec spec)
    {
        var plan = JobPlanner.Plan(spec);
        var everything = SyntheticData.Generate(spec.Dataset.Synthetic!, spec.Model!, 0, (int)plan.Samples);
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);
        var initial = ReferenceExecutor.Evaluate(spec.Model!, weights, everything);
        var losses = new List<double>();
        for (var round = 0; round < plan.Rounds; round++)
        {
            var average = new FederatedAverage(weights.Length);
            var roundLoss = 0.0;
            foreach (var shard in plan.Shards(round))
            {
                var output = ReferenceExecutor.Execute(spec, shard, weights, ShardData.Load(spec, shard));
                average.Add(output.Values, output.Samples);
                roundLoss += output.Loss / plan.ShardsPerRound;
            }
            weights = average.ApplyTo(weights);
            losses.Add(roundLoss);
        }
        return (initial, ReferenceExecutor.Evaluate(spec.Model!, weights, everything), losses);
    }
}
