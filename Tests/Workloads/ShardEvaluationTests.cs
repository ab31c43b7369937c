using Huginn.Grains.Rules;
using Huginn.Workloads;

namespace Huginn.Tests.Workloads;

/// <summary>The evaluation a validation split runs each round, and the split's rules (issue 13, item 6).</summary>
public sealed class ShardEvaluationTests
{
    private static readonly ModelSpec Classifier = ExampleSpecs.Mlp(8, [16], 4, ModelSpec.CrossEntropy);

    [Fact]
    public void Validation_loss_falls_and_accuracy_rises_as_an_easy_task_trains()
    {
        var spec = ExampleSpecs.Train(Classifier, ExampleSpecs.Blobs(1200, noise: 0.3)) with { LocalSteps = 40, BatchSize = 32, LearningRate = 0.2f, ShardsPerRound = 1 };
        var (split, errors) = ValidationSplit.Of(new ValidationSpec { Fraction = 0.25 }, 1200, spec.ShardsPerRound);
        Assert.Empty(errors);
        Assert.Equal(new ValidationSplit(900, 900, 300, false), split);
        var held = SyntheticData.Generate(spec.Dataset.Synthetic!, Classifier, split!.ValidationOffset, (int)split.ValidationRows);
        // The training shard covers the training rows only: the held-out rows are never trained on.
        var training = SyntheticData.Generate(spec.Dataset.Synthetic!, Classifier, 0, (int)split.TrainingRows);
        var shard = new ShardPlan(0, 0, 0, (int)split.TrainingRows, 5, 0, spec.LocalSteps, spec.BatchSize);

        var weights = ModelInitializer.Initialize(Classifier, spec.Seed);
        var metrics = new List<EvaluationMetrics> { ShardEvaluation.Evaluate(Classifier, weights, held) };
        for (var round = 0; round < 3; round++)
        {
            var delta = ReferenceExecutor.Execute(spec, shard with { Seed = (ulong)(round + 5) }, weights, training).Values;
            for (var j = 0; j < weights.Length; j++) weights[j] += delta[j];
            metrics.Add(ShardEvaluation.Evaluate(Classifier, weights, held));
        }

        Assert.All(metrics, m => Assert.Equal(300, m.Samples));
        for (var i = 1; i < metrics.Count; i++) Assert.True(metrics[i].MeanLoss < metrics[i - 1].MeanLoss, string.Join(", ", metrics));
        Assert.True(metrics[^1].Accuracy > metrics[0].Accuracy, string.Join(", ", metrics));
        Assert.True(metrics[^1].Accuracy >= 0.9, string.Join(", ", metrics));
        // The mean loss is the training loss's definition, per row.
        Assert.Equal(ReferenceExecutor.Evaluate(Classifier, weights, held), metrics[^1].MeanLoss);
    }

    [Fact]
    public void Accuracy_counts_the_rows_whose_largest_output_is_the_label()
    {
        // A one-layer model whose weights copy the features to the outputs: the label is right where feature[label] is largest.
        var model = ExampleSpecs.Mlp(2, [], 2, ModelSpec.CrossEntropy);
        float[] identity = [1, 0, 0, 1, 0, 0]; // weight rows then biases (LinearStack layout: W [2×2], b [2])
        var rows = new DataSlice([3, 1, 0, 2, 5, 4, 1, 1], [0, 1, 1, 1], 4, 2, 1);

        var metrics = ShardEvaluation.Evaluate(model, identity, rows);

        // Row 0: argmax 0, label 0 ✓; row 1: argmax 1 ✓; row 2: argmax 0, label 1 ✗; row 3: a tie goes to 0, label 1 ✗.
        Assert.Equal(0.5, metrics.Accuracy);
        Assert.Equal(4, metrics.Samples);
    }

    [Fact]
    public void Metrics_travel_as_two_values_and_a_liar_is_outvoted_by_the_comparison_audits_use()
    {
        var honest = new EvaluationMetrics(0.4321, 0.875, 300).ToShardOutput();
        var again = new EvaluationMetrics(0.4321, 0.875, 300).ToShardOutput();
        var flattering = new EvaluationMetrics(0.05, 0.99, 300).ToShardOutput();
        var tolerance = new ToleranceOptions().Infer;

        Assert.Equal([0.4321f, 0.875f], honest.Values);
        Assert.Equal(new EvaluationMetrics(0.4321f, 0.875f, 300), EvaluationMetrics.FromValues(honest.Values, 300, Classifier));
        Assert.Null(EvaluationMetrics.FromValues(honest.Values, 300, ExampleSpecs.Mlp()).Accuracy);
        Assert.True(Verification.Agree(WorkloadKind.Infer, honest, again, tolerance).Agree);
        Assert.False(Verification.Agree(WorkloadKind.Infer, honest, flattering, tolerance).Agree);
    }

    [Theory]
    [InlineData(0.0, "validation.fraction")]
    [InlineData(-0.1, "validation.fraction")]
    [InlineData(0.6, "validation.fraction")]
    [InlineData(double.NaN, "validation.fraction")]
    [InlineData(0.001, "validation.fraction")] // floor(0.001 · 100) = 0 rows held out
    public void A_fraction_that_holds_out_nothing_or_too_much_names_validation_fraction(double fraction, string field)
    {
        var (split, errors) = ValidationSplit.Of(new ValidationSpec { Fraction = fraction }, 100, 4);
        Assert.Null(split);
        Assert.Equal(field, Assert.Single(errors).Field);
    }

    [Fact]
    public void A_fraction_must_leave_every_training_shard_a_row()
    {
        var (split, errors) = ValidationSplit.Of(new ValidationSpec { Fraction = 0.5 }, 10, 6);
        Assert.Null(split);
        var error = Assert.Single(errors);
        Assert.Equal("validation.fraction", error.Field);
        Assert.Contains("leaves 5 training rows for 6 shards", error.Reason);
        Assert.NotNull(ValidationSplit.Of(new ValidationSpec { Fraction = 0.5 }, 10, 5).Split);
    }

    [Fact]
    public void Exactly_one_of_fraction_and_dataset()
    {
        var dataset = new DatasetSpec { Synthetic = ExampleSpecs.Blobs(50) };
        Assert.Equal("validation", Assert.Single(ValidationSplit.Of(new ValidationSpec(), 100, 1).Errors).Field);
        Assert.Equal("validation", Assert.Single(ValidationSplit.Of(new ValidationSpec { Fraction = 0.1, Dataset = dataset }, 100, 1).Errors).Field);
        Assert.Equal(new ValidationSplit(100, 0, 50, true), ValidationSplit.Of(new ValidationSpec { Dataset = dataset }, 100, 1).Split);
        Assert.Equal("validation.dataset.samples",
            Assert.Single(ValidationSplit.Of(new ValidationSpec { Dataset = new DatasetSpec { BlobId = new string('a', 64) } }, 100, 1).Errors).Field);
    }
}
