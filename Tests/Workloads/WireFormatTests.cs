using Huginn.Grains.Rules;
using System.Text.Json;
using Huginn.Workloads;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Xunit;

namespace Huginn.Tests.Workloads;

public sealed class WireFormatTests
{
    private static readonly Serializer Serializer = new ServiceCollection()
        .AddSerializer(builder => builder.AddAssembly(typeof(JobSpec).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static T RoundTrip<T>(T value) => Serializer.Deserialize<T>(Serializer.SerializeToArray(value))!;

    private static void AssertSameJson<T>(T expected, T actual) =>
        Assert.Equal(JsonSerializer.Serialize(expected, Json), JsonSerializer.Serialize(actual, Json));

    [Fact]
    public void Job_spec_survives_the_orleans_serializer()
    {
        var spec = ExampleSpecs.Prep(ExampleSpecs.Cnn() with { HiddenSizes = [7] }) with { WeightsBlobId = null, Rounds = 1 };
        var train = ExampleSpecs.Train(ExampleSpecs.Transformer(), ExampleSpecs.Blobs()) with { WeightsBlobId = ExampleSpecs.SomeBlobId };

        AssertSameJson(spec, RoundTrip(spec));
        AssertSameJson(train, RoundTrip(train));
    }

    [Fact]
    public void Shard_records_survive_the_orleans_serializer()
    {
        var plan = JobPlanner.Plan(ExampleSpecs.Train());
        var output = new ShardOutput([1f, -2f], [3, 4], 0.25, 160);
        var estimate = Pricing.Estimate(plan, 0.2, new PricingOptions());

        Assert.Equal(plan.Shard(2, 3), RoundTrip(plan.Shard(2, 3)));
        AssertSameJson(output, RoundTrip(output));
        AssertSameJson(plan, RoundTrip(plan));
        Assert.Equal(estimate, RoundTrip(estimate));
        Assert.Equal(new SpecError("rounds", "why"), RoundTrip(new SpecError("rounds", "why")));
    }

    [Fact]
    public void Job_spec_reads_from_the_api_json_with_defaults()
    {
        const string body = """
            {
              "kind": "train",
              "model": { "type": "mlp", "inputSize": 4, "hiddenSizes": [8], "outputSize": 2 },
              "dataset": { "synthetic": { "kind": "teacher", "samples": 100, "seed": 1 } },
              "rounds": 2,
              "seed": 18446744073709551615
            }
            """;

        var spec = JsonSerializer.Deserialize<JobSpec>(body, Json)!;

        Assert.Equal(WorkloadKind.Train, spec.Kind);
        Assert.Equal([8], spec.Model!.HiddenSizes);
        Assert.Equal(ModelSpec.Relu, spec.Model.Activation);
        Assert.Equal(100, spec.Dataset.SampleCount());
        Assert.Equal(0.1, spec.Dataset.Synthetic!.Noise);
        Assert.Equal((2, 1, 1, 32, 0.05f, ulong.MaxValue), (spec.Rounds, spec.ShardsPerRound, spec.LocalSteps, spec.BatchSize, spec.LearningRate, spec.Seed));
        Assert.Empty(SpecValidator.Validate(spec));
        Assert.Contains("\"kind\":\"train\"", JsonSerializer.Serialize(spec, Json));
        Assert.Equal("\"browser\"", JsonSerializer.Serialize(DeviceKind.Browser, Json));
    }
}
