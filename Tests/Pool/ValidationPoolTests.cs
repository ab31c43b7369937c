using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Rules;
using Huginn.Simulation;
using Huginn.Workloads;

namespace Huginn.Tests.Pool;

/// <summary>spec.validation through the grains: an evaluation shard per round, leased, paid and audited like any shard.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Cluster")]
public sealed class ValidationPoolTests(PoolClusterFixture fixture) : IAsyncLifetime
{
    private readonly SimulatedPool _pool = new(fixture);

    private static readonly PricingOptions PoolPricing = TestPricing();

    private static PricingOptions TestPricing()
    {
        var options = new Huginn.Grains.PoolOptions();
        PoolClusterFixture.ConfigureTestPool(options);
        return options.Pricing;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    /// <summary>Gaussian blobs in 3 classes, 400 rows, of which 80 (20%) are held out: an easy task that trains in a few rounds.</summary>
    private static JobSpec EasyClassification(int rounds, ulong seed = 21, int shardsPerRound = 4) => new()
    {
        Kind = WorkloadKind.Train,
        Model = new ModelSpec { Type = ModelSpec.Mlp, InputSize = 8, HiddenSizes = [16], OutputSize = 3, Loss = ModelSpec.CrossEntropy },
        Dataset = new DatasetSpec { Synthetic = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Blobs, Samples = 400, Seed = seed, Noise = 2.0 } },
        Rounds = rounds,
        ShardsPerRound = shardsPerRound,
        LocalSteps = 10,
        BatchSize = 16,
        LearningRate = 0.05f,
        Seed = seed,
        Validation = new ValidationSpec { Fraction = 0.2 },
    };

    [Fact]
    public async Task Every_round_gets_a_validation_loss_and_accuracy_that_improve_and_evaluations_are_paid_at_their_price()
    {
        var devices = new[] { await _pool.AddDeviceAsync(gflops: 400), await _pool.AddDeviceAsync(gflops: 200), await _pool.AddDeviceAsync(gflops: 100) };
        var client = await _pool.CreateClientAsync(hu: 10);
        var job = await _pool.SubmitAsync(client, EasyClassification(rounds: 4));
        Assert.Equal([double.NaN, double.NaN, double.NaN, double.NaN], job.ValidationLosses);

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        // Training shards only in the progress; the evaluations ran besides them.
        Assert.Equal(16, done.Progress.ShardsDone);
        Assert.Equal(4, done.ValidationLosses.Length);
        Assert.All(done.ValidationLosses, l => Assert.True(double.IsFinite(l), $"a round without validation loss: {string.Join(", ", done.ValidationLosses)}"));
        var metrics = $"losses {string.Join(", ", done.ValidationLosses)}; accuracies {string.Join(", ", done.ValidationAccuracies)}";
        Assert.All(done.ValidationAccuracies, a => Assert.InRange(a, 0, 1));
        Assert.True(done.ValidationLosses[^1] < done.ValidationLosses[0], $"validation loss did not fall: {metrics}");
        Assert.True(done.ValidationAccuracies[^1] >= done.ValidationAccuracies[0], $"accuracy fell: {metrics}");
        Assert.True(done.ValidationAccuracies[^1] > 0.6, $"an easy task stayed near chance: {metrics}");

        // The metrics are those of the final weights on the held-out rows, as the reference evaluation measures them.
        var plan = JobPlanner.Plan(done.Spec);
        var final = WeightsFormat.FromBytes(await _pool.ResultBytesAsync(job.JobId));
        var heldOut = SyntheticData.Generate(done.Spec.Dataset.Synthetic!, done.Spec.Model!, 320, 80);
        var expected = ShardEvaluation.Evaluate(done.Spec.Model!, final, heldOut);
        Assert.Equal(expected.MeanLoss, done.ValidationLosses[^1], 4);
        Assert.Equal(expected.Accuracy!.Value, done.ValidationAccuracies[^1], 4);

        // Evaluations covered exactly the held-out rows, training shards never reached them.
        var assignments = devices.SelectMany(d => d.Assignments).Where(a => a.JobId == job.JobId).ToList();
        var evaluations = assignments.Where(a => a.Shard.Evaluate).ToList();
        Assert.Equal([0, 1, 2, 3], evaluations.Select(a => a.Shard.Round).Distinct().Order());
        Assert.All(evaluations, a => Assert.Equal((320L, 80), (a.Shard.SampleOffset, a.Shard.SampleCount)));
        Assert.All(assignments.Where(a => !a.Shard.Evaluate), a => Assert.True(a.Shard.SampleOffset + a.Shard.SampleCount <= 320));

        // Paid at their own price: every owner earned its training results at the shard price, its evaluations at theirs.
        var shardPrice = Pricing.ShardPriceMicroHu(plan.FlopsPerShard, PoolPricing);
        var evaluationPrice = Pricing.ShardPriceMicroHu(plan.EvaluationFlops, PoolPricing);
        Assert.All(evaluations, a => Assert.Equal(evaluationPrice, a.PriceMicroHu));
        long paid = 0;
        foreach (var device in devices) paid += (await _pool.AccountAsync(device.OwnerAccountId)).EarnedMicroHu;
        Assert.Equal(paid + Pricing.FeeMicroHu(paid, PoolPricing), done.SpentMicroHu);
        Assert.True(paid >= 16 * shardPrice + 4 * evaluationPrice, $"paid {paid}: less than every training shard and evaluation once");
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_device_that_flatters_the_evaluation_is_outvoted_and_its_metrics_are_not_recorded()
    {
        // A device is audited on every shard until it has passed ProbationAudits (2 in the test pool) audits: with one
        // training shard a round over two rounds, the flatterer has passed at most two when its evaluations run, so each
        // of them runs on a second device too. Audits of trusted devices are a draw, as for any shard.
        // Fast, with a slot for every shard: it is offered a lease on each evaluation.
        var flatterer = await _pool.AddDeviceAsync(Behavior.FlattersEvaluations, gflops: 1000, slots: 10);
        for (var i = 0; i < 3; i++) await _pool.AddDeviceAsync(gflops: 100);
        var client = await _pool.CreateClientAsync(hu: 10);
        // Four shards, each audited and the evaluations broken by a third device: more than the default escrow (the
        // estimate at 10% tie-breaks) holds when every evaluation is disputed, so the client caps the job at 1 HU.
        var job = await _pool.SubmitAsync(client, EasyClassification(rounds: 2, seed: 23, shardsPerRound: 1), maxMicroHu: 1_000_000);

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.True(done.Status == JobStatus.Completed, $"{done.Status}: {done.FailureReason}");
        Assert.Contains(flatterer.Assignments, a => a.JobId == job.JobId && a.Shard.Evaluate);
        Assert.Contains(flatterer.DeviceId, done.DevicesCaught);
        var record = (await _pool.DeviceAsync(flatterer)).Record;
        Assert.True(record.Invalid >= 1, $"the flatterer was never outvoted: {record}");
        Assert.All(done.ValidationLosses, l => Assert.True(double.IsFinite(l) && l > 0, $"a flattering or missing loss was recorded: {string.Join(", ", done.ValidationLosses)}; flatterer {record}"));
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_failing_evaluation_leaves_null_metrics_but_the_training_job_completes()
    {
        // Every device gives evaluation shards back as invalid data: two owners with the same code end the evaluation.
        for (var i = 0; i < 3; i++) await _pool.AddDeviceAsync(Behavior.FailsEvaluations);
        var client = await _pool.CreateClientAsync(hu: 10);
        var job = await _pool.SubmitAsync(client, EasyClassification(rounds: 2, seed: 25));

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(2, done.RoundLosses.Length);
        Assert.All(done.ValidationLosses, l => Assert.True(double.IsNaN(l)));
        await _pool.AssertLedgerBalancedAsync();
    }
}
