using Huginn.Workloads;
using Xunit;

namespace Huginn.Tests.Workloads;

public sealed class DeterminismTests
{
    [Fact]
    public void Random_stream_is_reproducible_from_its_seed()
    {
        var a = new DeterministicRandom(42);
        var b = new DeterministicRandom(42);
        var c = new DeterministicRandom(43);

        var first = Enumerable.Range(0, 100).Select(_ => a.NextULong()).ToArray();
        Assert.Equal(first, Enumerable.Range(0, 100).Select(_ => b.NextULong()));
        Assert.NotEqual(first, Enumerable.Range(0, 100).Select(_ => c.NextULong()));
    }

    [Fact]
    public void Random_stream_is_the_same_on_every_machine()
    {
        // Pinned values: a change here changes every synthetic dataset, initial weight and mini-batch in the pool.
        var random = new DeterministicRandom(42);

        Assert.Equal(
            [Golden.Random0, Golden.Random1, Golden.Random2],
            new[] { random.NextULong(), random.NextULong(), random.NextULong() });
        Assert.Equal(Golden.Derived, DeterministicRandom.Derive(42, 1, 2));
    }

    [Fact]
    public void Derived_seeds_depend_on_every_part_and_on_their_order()
    {
        var seeds = new[]
        {
            DeterministicRandom.Derive(1),
            DeterministicRandom.Derive(1, 0),
            DeterministicRandom.Derive(1, 0, 0),
            DeterministicRandom.Derive(1, 1, 2),
            DeterministicRandom.Derive(1, 2, 1),
            DeterministicRandom.Derive(2, 1, 2),
            DeterministicRandom.Derive(1, -1),
        };

        Assert.Equal(seeds.Length, seeds.Distinct().Count());
        Assert.Equal(DeterministicRandom.Derive(1, 1, 2), DeterministicRandom.Derive(1, 1, 2));
    }

    [Fact]
    public void Uniform_draws_stay_in_their_ranges()
    {
        var random = new DeterministicRandom(5);
        for (var i = 0; i < 10_000; i++)
        {
            var d = random.NextDouble();
            var f = random.NextFloat();
            var n = random.NextInt(7);
            Assert.InRange(d, 0.0, 1.0 - double.Epsilon);
            Assert.True(d < 1.0);
            Assert.True(f is >= 0f and < 1f);
            Assert.InRange(n, 0, 6);
        }
    }

    [Fact]
    public void Gaussian_draws_have_mean_zero_and_unit_variance()
    {
        var random = new DeterministicRandom(9);
        var values = Enumerable.Range(0, 100_000).Select(_ => random.NextGaussian()).ToArray();
        var mean = values.Average();
        var variance = values.Select(v => (v - mean) * (v - mean)).Average();

        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(variance, 0.98, 1.02);
    }

    [Fact]
    public void Portable_math_agrees_with_the_platform_to_a_few_ulps()
    {
        var random = new DeterministicRandom(3);
        for (var i = 0; i < 10_000; i++)
        {
            var x = Math.Exp(random.NextDouble() * 80 - 40);
            Assert.Equal(Math.Log(x), DeterministicMath.Log(x), 1e-14 * Math.Max(1, Math.Abs(Math.Log(x))));
            var y = random.NextDouble() * 60 - 30;
            Assert.Equal(Math.Exp(y), DeterministicMath.Exp(y), 1e-14 * Math.Exp(y));
            Assert.Equal(Math.Tanh(y / 5), DeterministicMath.Tanh(y / 5), 1e-15);
        }
    }

    [Fact]
    public void Portable_math_handles_the_edges()
    {
        Assert.Equal(0.0, DeterministicMath.Log(1));
        Assert.Equal(1.0, DeterministicMath.Exp(0));
        Assert.Equal(double.NegativeInfinity, DeterministicMath.Log(0));
        Assert.True(double.IsNaN(DeterministicMath.Log(-1)));
        Assert.Equal(Math.Log(double.Epsilon), DeterministicMath.Log(double.Epsilon), 1e-12);
        Assert.Equal(double.PositiveInfinity, DeterministicMath.Exp(1000));
        Assert.Equal(0.0, DeterministicMath.Exp(-1000));
        Assert.Equal(1.0, DeterministicMath.Tanh(50));
        Assert.Equal(-1.0, DeterministicMath.Tanh(-50));
        Assert.Equal(0.0, DeterministicMath.Tanh(0));
    }

    [Fact]
    public void Initializer_is_deterministic_for_a_seed()
    {
        var model = ExampleSpecs.Mlp(10, [20], 3);

        var first = ModelInitializer.Initialize(model, 42);

        Assert.Equal(first, ModelInitializer.Initialize(model, 42));
        Assert.NotEqual(first, ModelInitializer.Initialize(model, 43));
        Assert.Equal(Golden.MlpWeightsDigest, Digest.Sha256Hex(WeightsFormat.ToBytes(first)));
    }

    [Fact]
    public void Initial_weights_are_uniform_within_one_over_root_fan_in()
    {
        var weights = ModelInitializer.Initialize(ExampleSpecs.Mlp(10, [20], 3), 1);

        Assert.Equal(10 * 20 + 20 + 20 * 3 + 3, weights.Length);
        var firstLayer = weights.AsSpan(0, 220).ToArray();
        var secondLayer = weights.AsSpan(220).ToArray();
        Assert.All(firstLayer, w => Assert.InRange(Math.Abs(w), 0f, 1 / MathF.Sqrt(10)));
        Assert.All(secondLayer, w => Assert.InRange(Math.Abs(w), 0f, 1 / MathF.Sqrt(20)));
        Assert.True(firstLayer.Max() > 0.9f / MathF.Sqrt(10));
        Assert.True(firstLayer.Min() < -0.9f / MathF.Sqrt(10));
    }

    [Fact]
    public void Transformer_initial_weights_follow_the_layout()
    {
        var model = ExampleSpecs.Transformer();
        var layout = ModelRegistry.Get("transformer").Layout(model);
        var weights = ModelInitializer.Initialize(model, 5);

        Assert.Equal(ModelRegistry.Get("transformer").ParameterCount(model), weights.Length);
        var offset = 0;
        foreach (var tensor in layout)
        {
            var values = weights.AsSpan(offset, (int)tensor.Size).ToArray();
            offset += values.Length;
            switch (tensor.Init)
            {
                case ParameterInit.Ones:
                    Assert.All(values, v => Assert.Equal(1f, v));
                    break;
                case ParameterInit.Zeros:
                    Assert.All(values, v => Assert.Equal(0f, v));
                    break;
                case ParameterInit.Normal:
                    Assert.InRange(values.Average(), -0.1, 0.1);
                    Assert.InRange(values.Select(v => v * v).Average(), 0.85, 1.15);
                    break;
            }
        }
    }

    [Fact]
    public void Weights_blob_round_trips()
    {
        float[] weights = [1.5f, -0f, float.Epsilon, float.MaxValue, -3.25f];

        Assert.Equal(weights, WeightsFormat.FromBytes(WeightsFormat.ToBytes(weights)));
        Assert.Equal([0, 0, 0xC0, 0x3F], WeightsFormat.ToBytes([1.5f]));
        Assert.Throws<ArgumentException>(() => WeightsFormat.FromBytes(new byte[5]));
    }
}
