using Huginn.Grains.Rules;
using Huginn.Tests.Workloads;
using Huginn.Workloads;

namespace Huginn.Tests.Worker;

/// <summary>The TorchSharp worker's evaluation agrees with the reference's, as its training and inference do.</summary>
[Collection(TorchCollection.Name), Trait("Category", "Torch")]
public sealed class TorchEvaluationTests(TorchFixture fixture)
{
    [Theory]
    [InlineData(ModelSpec.CrossEntropy, 700)]
    [InlineData(ModelSpec.Mse, 700)]
    [InlineData(ModelSpec.CrossEntropy, 3)]
    public void Torch_evaluation_matches_the_reference_evaluation(string loss, int rows)
    {
        var model = ExampleSpecs.Mlp(8, [16, 16], 4, loss);
        var data = loss == ModelSpec.Mse ? ExampleSpecs.Teacher(rows) : ExampleSpecs.Blobs(rows, noise: 1);
        var spec = ExampleSpecs.Train(model, data);
        var weights = ModelInitializer.Initialize(model, spec.Seed);
        var slice = SyntheticData.Generate(data, model, 0, rows);

        var torch = fixture.Executor.Evaluate(spec, weights, slice);
        var reference = ShardEvaluation.Evaluate(model, weights, slice);

        Assert.Equal(rows, torch.Samples);
        Assert.Equal(reference.MeanLoss, torch.MeanLoss, 1e-5 * reference.MeanLoss);
        // Argmax flips only where two outputs tie within float32 rounding: on these rows, never.
        Assert.Equal(reference.Accuracy, torch.Accuracy);
        if (loss == ModelSpec.Mse) Assert.Null(torch.Accuracy);
    }

    [Fact]
    public void An_evaluation_shard_returns_the_two_metrics_the_reference_executor_returns()
    {
        var model = ExampleSpecs.Mlp(8, [16], 3, ModelSpec.CrossEntropy);
        var spec = ExampleSpecs.Train(model, ExampleSpecs.Blobs(400, noise: 1)) with { Validation = new ValidationSpec { Fraction = 0.25 } };
        var evaluation = JobPlanner.Plan(spec).EvaluationShard(0);
        var weights = ModelInitializer.Initialize(model, spec.Seed);
        var rows = ShardData.Load(spec, evaluation);

        var torch = fixture.Executor.Execute(spec, evaluation, weights, rows);
        var reference = ReferenceExecutor.Execute(spec, evaluation, weights, rows);

        Assert.Equal((2, 0), (torch.Values.Length, torch.Bytes.Length));
        Assert.Equal(100, torch.Samples);
        Assert.Equal(reference.Values[0], torch.Values[0], 1e-5f * reference.Values[0]);
        Assert.Equal(reference.Values[1], torch.Values[1]);
        Assert.True(Verification.Agree(WorkloadKind.Infer, reference, torch, 1e-4).Agree);
    }
}
