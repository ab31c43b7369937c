using Huginn.Grains.Rules;
using Huginn.Workloads;

namespace Huginn.Tests.Workloads;

/// <summary>spec.validation: its checks, the plan's training rows and evaluation shard, its price, and the executors' evaluate flag.</summary>
public sealed class ValidationSpecTests
{
    private static readonly ModelSpec Classifier = ExampleSpecs.Mlp(8, [16], 3, ModelSpec.CrossEntropy);

    private static JobSpec Training(ValidationSpec? validation, int rounds = 3, int shards = 4, long samples = 400) =>
        ExampleSpecs.Train(Classifier, ExampleSpecs.Blobs(samples, noise: 0.3)) with { Rounds = rounds, ShardsPerRound = shards, Validation = validation };

    private static DatasetSpec Rows(long samples) => new() { Synthetic = ExampleSpecs.Blobs(samples, seed: 11) };

    private static IReadOnlyList<SpecError> Errors(JobSpec spec) => SpecValidator.Validate(spec);

    [Fact]
    public void A_fraction_or_a_separate_dataset_is_valid()
    {
        Assert.Empty(Errors(Training(new ValidationSpec { Fraction = 0.2 })));
        Assert.Empty(Errors(Training(new ValidationSpec { Dataset = Rows(50) })));
        Assert.Empty(Errors(Training(null)));
    }

    [Theory]
    [InlineData(0.0, "validation.fraction")]
    [InlineData(-0.1, "validation.fraction")]
    [InlineData(0.6, "validation.fraction")]
    [InlineData(double.NaN, "validation.fraction")]
    [InlineData(0.001, "validation.fraction")] // floor(0.001 · 400) = 0 rows held out
    public void A_fraction_out_of_range_names_the_field(double fraction, string field)
    {
        var errors = Errors(Training(new ValidationSpec { Fraction = fraction }));
        Assert.Contains(errors, e => e.Field == field);
    }

    [Fact]
    public void A_split_that_leaves_a_training_shard_without_rows_names_the_fraction()
    {
        // 8 rows, 8 shards: holding out any row leaves a shard empty.
        var errors = Errors(Training(new ValidationSpec { Fraction = 0.5 }, shards: 8, samples: 8));
        Assert.Contains(errors, e => e.Field == "validation.fraction" && e.Reason.Contains("training rows"));
    }

    [Fact]
    public void Neither_or_both_ways_and_a_bad_dataset_name_the_fields()
    {
        Assert.Contains(Errors(Training(new ValidationSpec())), e => e.Field == "validation");
        Assert.Contains(Errors(Training(new ValidationSpec { Fraction = 0.2, Dataset = Rows(10) })), e => e.Field == "validation");
        Assert.Contains(Errors(Training(new ValidationSpec { Dataset = new DatasetSpec() })), e => e.Field == "validation.dataset");
        Assert.Contains(Errors(Training(new ValidationSpec { Dataset = new DatasetSpec { BlobId = "nothex", Samples = 10 } })), e => e.Field == "validation.dataset.blobId");
        Assert.Contains(Errors(Training(new ValidationSpec { Dataset = new DatasetSpec { BlobId = new string('a', 64) } })), e => e.Field == "validation.dataset.samples");
        Assert.Contains(Errors(Training(new ValidationSpec { Dataset = Rows(0) })), e => e.Field == "validation.dataset.synthetic.samples");
    }

    [Fact]
    public void Only_a_training_job_has_a_validation_split()
    {
        var infer = ExampleSpecs.Infer(Classifier, samples: 100) with { Validation = new ValidationSpec { Fraction = 0.2 } };
        Assert.Contains(Errors(infer), e => e.Field == "validation" && e.Reason.Contains("train"));
    }

    [Fact]
    public void The_plan_slices_only_the_training_rows_and_evaluates_the_held_out_ones()
    {
        var plan = JobPlanner.Plan(Training(new ValidationSpec { Fraction = 0.2 }, rounds: 3, shards: 4, samples: 400));

        Assert.Equal(320, plan.Samples);
        Assert.Equal(80, plan.ValidationRows);
        Assert.Equal(320, plan.ValidationOffset);
        for (var round = 0; round < plan.Rounds; round++)
        {
            Assert.All(plan.Shards(round), s => Assert.True(s.SampleOffset + s.SampleCount <= 320, $"shard {s.Index} reaches a held-out row"));
            Assert.All(plan.Shards(round), s => Assert.False(s.Evaluate));
        }
        var evaluation = plan.EvaluationShard(2);
        Assert.True(evaluation.Evaluate);
        Assert.Equal((2, 4, 320L, 80), (evaluation.Round, evaluation.Index, evaluation.SampleOffset, evaluation.SampleCount));
        Assert.Equal(80 * plan.FlopsPerSample, evaluation.Flops);
        Assert.Equal(0, evaluation.Steps);
        Assert.Equal(3 * 5, plan.TotalShards);
        Assert.Equal(plan.EvaluationFlops, plan.EvaluationRequirement!.Flops);
    }

    [Fact]
    public void A_separate_dataset_keeps_every_training_row_and_evaluates_its_own_rows_from_zero()
    {
        var spec = Training(new ValidationSpec { Dataset = Rows(60) });
        var plan = JobPlanner.Plan(spec);
        Assert.Equal(400, plan.Samples);
        var evaluation = plan.EvaluationShard(0);
        Assert.Equal((0L, 60), (evaluation.SampleOffset, evaluation.SampleCount));
        Assert.Same(spec.Validation!.Dataset, ShardData.DatasetOf(spec, evaluation));
        Assert.Same(spec.Dataset, ShardData.DatasetOf(spec, plan.Shard(0, 0)));
    }

    [Fact]
    public void The_estimate_prices_one_evaluation_shard_per_round()
    {
        var pricing = new PricingOptions();
        var without = JobPlanner.Plan(Training(null, samples: 320 + 80));
        var with = JobPlanner.Plan(Training(new ValidationSpec { Fraction = 0.2 }));
        var plain = Pricing.Estimate(without, 0, pricing);
        var validated = Pricing.Estimate(with, 0, pricing);

        var evaluationPrice = Pricing.ShardPriceMicroHu(with.EvaluationFlops, pricing);
        // Training shards cost the same (their FLOPs do not depend on their slice); each round adds one evaluation.
        Assert.Equal(plain.WorkMicroHu + with.Rounds * evaluationPrice, validated.WorkMicroHu);
        Assert.Equal(plain.Shards + with.Rounds, validated.Shards);
        Assert.Equal(without.TotalFlops + with.Rounds * (double)with.EvaluationFlops, with.TotalFlops);
    }

    [Fact]
    public void An_evaluation_shard_returns_two_values_the_reference_evaluation_of_its_rows()
    {
        var spec = Training(new ValidationSpec { Fraction = 0.2 });
        var plan = JobPlanner.Plan(spec);
        var evaluation = plan.EvaluationShard(0);
        Assert.Equal((2, 0), OutputShape.Expected(spec, evaluation));

        var weights = ModelInitializer.Initialize(Classifier, spec.Seed);
        var rows = ShardData.Load(spec, evaluation);
        var output = ReferenceExecutor.Execute(spec, evaluation, weights, rows);
        var expected = ShardEvaluation.Evaluate(Classifier, weights, rows);

        Assert.Equal(2, output.Values.Length);
        Assert.Equal(80, rows.Count);
        Assert.Equal((float)expected.MeanLoss, output.Values[0]);
        Assert.Equal((float)expected.Accuracy!.Value, output.Values[1]);
    }

    [Fact]
    public void The_evaluate_flag_is_absent_on_the_wire_for_other_shards()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new ShardPlan(0, 1, 2, 3, 4, 5, 6, 7), Huginn.Protocol.Frame.Json);
        Assert.DoesNotContain("evaluate", json, StringComparison.OrdinalIgnoreCase);
        var evaluation = System.Text.Json.JsonSerializer.Serialize(new ShardPlan(0, 1, 2, 3, 4, 5, 0, 7) { Evaluate = true }, Huginn.Protocol.Frame.Json);
        Assert.Contains("\"evaluate\":true", evaluation);
        Assert.True(System.Text.Json.JsonSerializer.Deserialize<ShardPlan>(evaluation, Huginn.Protocol.Frame.Json)!.Evaluate);
    }
}
