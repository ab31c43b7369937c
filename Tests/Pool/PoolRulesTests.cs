using Huginn.Grains;
using Huginn.Grains.Rules;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Simulation;
using Huginn.Workloads;

namespace Huginn.Tests.Pool;

/// <summary>The pool's rules, end to end through the grains, with simulated devices doing real (small) work.</summary>
[Collection(PoolCollection.Name), Trait("Category", "Cluster")]
public sealed class PoolRulesTests(PoolClusterFixture fixture) : IAsyncLifetime
{
    private readonly SimulatedPool _pool = new(fixture);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _pool.DisposeAsync();

    [Fact]
    public async Task Honest_pool_completes_a_multi_round_training_job_and_pays_in_proportion_to_work()
    {
        var devices = new[]
        {
            await _pool.AddDeviceAsync(gflops: 400),
            await _pool.AddDeviceAsync(gflops: 200),
            await _pool.AddDeviceAsync(gflops: 100),
        };
        var client = await _pool.CreateClientAsync(hu: 10);
        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 4, shardsPerRound: 4));

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(16, done.Progress.ShardsDone);
        Assert.Equal(4, done.RoundLosses.Length);
        var measured = done.RoundLosses.Where(double.IsFinite).ToArray();
        Assert.True(measured[^1] < measured[0], $"loss did not fall: {string.Join(", ", done.RoundLosses)}");
        Assert.Empty(done.DevicesCaught);

        var price = Pricing.ShardPriceMicroHu(JobPlanner.Plan(done.Spec).FlopsPerShard, PoolPricing);
        long paid = 0;
        foreach (var device in devices)
        {
            var view = await _pool.DeviceAsync(device);
            var account = await _pool.AccountAsync(device.OwnerAccountId);
            var acceptedResults = view.Record.Verified + view.Record.Unaudited;
            Assert.Equal(0, view.Record.Invalid);
            Assert.Equal(price * acceptedResults, account.EarnedMicroHu);
            paid += account.EarnedMicroHu;
        }
        var fee = Pricing.FeeMicroHu(paid, PoolPricing);
        Assert.Equal(paid + fee, done.SpentMicroHu);
        Assert.Equal(done.EscrowMicroHu - paid - fee, done.RefundedMicroHu);
        Assert.Equal(MicroHu.FromHu(10) - paid - fee, (await _pool.AccountAsync(client)).AvailableMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Always_wrong_device_is_caught_on_its_first_shard_unpaid_and_banned_after_repeats()
    {
        var cheater = await _pool.AddDeviceAsync(Behavior.AlwaysWrong, gflops: 1000);
        for (var i = 0; i < 3; i++) await _pool.AddDeviceAsync(gflops: 100);
        var client = await _pool.CreateClientAsync(hu: 20);
        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 3, shardsPerRound: 6));

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        var view = await _pool.DeviceAsync(cheater);
        Assert.Equal(0, view.Record.Verified);
        Assert.Equal(0, view.Record.Unaudited);
        Assert.True(view.Record.Invalid >= 3, $"banned after {view.Record.Invalid} invalid verdicts");
        Assert.Equal(DeviceStatus.Banned, view.Status);
        Assert.Contains(cheater.DeviceId, done.DevicesCaught);
        var owner = await _pool.AccountAsync(cheater.OwnerAccountId);
        Assert.Equal(0, owner.EarnedMicroHu);
        Assert.Equal(0, owner.HoldingsMicroHu);
        var measured = done.RoundLosses.Where(double.IsFinite).ToArray();
        Assert.True(measured[^1] < measured[0], "the cheater's deltas must not have spoiled training");
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Banned_device_gets_no_more_work()
    {
        var cheater = await _pool.AddDeviceAsync(Behavior.Lazy, gflops: 1000);
        for (var i = 0; i < 3; i++) await _pool.AddDeviceAsync(gflops: 100);
        var client = await _pool.CreateClientAsync(hu: 20);
        var first = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 3, shardsPerRound: 6));
        await _pool.WaitUntilFinishedAsync(first.JobId);
        Assert.Equal(DeviceStatus.Banned, (await _pool.DeviceAsync(cheater)).Status);
        var assignmentsWhenBanned = cheater.Assignments.Count;

        var second = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 2, shardsPerRound: 6, seed: 11));
        var done = await _pool.WaitUntilFinishedAsync(second.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Equal(assignmentsWhenBanned, cheater.Assignments.Count);
        Assert.Equal(DeviceStatus.Banned, await cheater.Grain.HeartbeatAsync(DeviceHeartbeat.Empty));
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Sleeper_that_cheats_after_earning_trust_loses_its_pending_earnings()
    {
        var sleeper = await _pool.AddDeviceAsync(Behavior.Honest, gflops: 400);
        for (var i = 0; i < 3; i++) await _pool.AddDeviceAsync(gflops: 100);
        var client = await _pool.CreateClientAsync(hu: 50);

        // Phase 1: honest long enough that some of its shards go unaudited and their pay sits pending.
        var trustBuilding = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 4, shardsPerRound: 8));
        await _pool.WaitUntilFinishedAsync(trustBuilding.JobId);
        var trusted = await _pool.DeviceAsync(sleeper);
        var beforeCheating = await _pool.AccountAsync(sleeper.OwnerAccountId);
        Assert.True(trusted.AuditRate < 1.0, $"the sleeper never earned trust: {trusted.Record}");
        Assert.True(beforeCheating.PendingMicroHu > 0, $"no unaudited pay pending after {trusted.Record}");

        // Phase 2: it cheats; an audit catches it sooner or later. Audits are a draw, so keep the pool busy
        // (a bounded number of jobs) until one lands on the sleeper.
        sleeper.Behavior = Behavior.AlwaysWrong;
        JobView exploit = null!;
        for (var attempt = 0; attempt < 8 && (await _pool.DeviceAsync(sleeper)).Record.Invalid == 0; attempt++)
        {
            exploit = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 2, shardsPerRound: 8, seed: 99 + (ulong)attempt));
            await _pool.WaitUntilFinishedAsync(exploit.JobId);
        }
        Assert.True((await _pool.DeviceAsync(sleeper)).Record.Invalid >= 1, "eight jobs went by without an audit landing on the sleeper");

        var caught = await _pool.DeviceAsync(sleeper);
        var after = await _pool.AccountAsync(sleeper.OwnerAccountId);
        var price = Pricing.ShardPriceMicroHu(JobPlanner.Plan(exploit.Spec).FlopsPerShard, PoolPricing);
        Assert.Equal(0, after.PendingMicroHu);
        Assert.True(after.Devices[sleeper.DeviceId].ForfeitedMicroHu >= beforeCheating.PendingMicroHu);
        // What it keeps is exactly the pay for work an audit confirmed; everything unaudited was forfeited.
        Assert.Equal(price * caught.Record.Verified, after.AvailableMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Device_that_goes_silent_has_its_shards_moved_and_the_job_completes()
    {
        var silent = await _pool.AddDeviceAsync(Behavior.Stalled, gflops: 1000);
        for (var i = 0; i < 3; i++) await _pool.AddDeviceAsync(gflops: 100);
        var client = await _pool.CreateClientAsync(hu: 10);
        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 2, shardsPerRound: 4));
        await Eventually.UntilAsync(() => Task.FromResult(silent.Assignments.Count), n => n >= 1, "the silent device getting a shard");

        silent.Heartbeating = false;
        await _pool.AdvanceClockAsync(TimeSpan.FromSeconds(40));

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);
        Assert.Equal(JobStatus.Completed, done.Status);
        var view = await _pool.DeviceAsync(silent);
        Assert.Equal(DeviceStatus.Offline, view.Status);
        Assert.Equal(0, view.OpenLeases);
        Assert.True(view.Record.Expired >= 1);
        Assert.Equal(0, (await _pool.AccountAsync(silent.OwnerAccountId)).EarnedMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Expired_lease_moves_shard_to_another_device()
    {
        var stalled = await _pool.AddDeviceAsync(Behavior.Stalled, gflops: 1000);
        for (var i = 0; i < 3; i++) await _pool.AddDeviceAsync(gflops: 100);
        var client = await _pool.CreateClientAsync(hu: 10);
        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 1, shardsPerRound: 4));
        await Eventually.UntilAsync(() => Task.FromResult(stalled.Assignments.Count), n => n >= 1, "the stalled device getting a shard");

        // It heartbeats, so only the lease deadline (minutes) can take its shard away.
        var done = await _pool.AdvanceUntilFinishedAsync(job.JobId, TimeSpan.FromMinutes(15));
        Assert.Equal(JobStatus.Completed, done.Status);
        var view = await _pool.DeviceAsync(stalled);
        Assert.Equal(DeviceStatus.Online, view.Status);
        Assert.Equal(0, view.OpenLeases);
        Assert.True(view.Record.Expired >= 1);
        Assert.Equal(0, (await _pool.AccountAsync(stalled.OwnerAccountId)).EarnedMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task A_device_that_claims_more_speed_than_it_delivers_is_routed_at_what_it_delivered()
    {
        var braggart = await _pool.AddDeviceAsync(Behavior.Stalled, gflops: 1_000_000);
        await _pool.AddDeviceAsync(gflops: 100);
        await _pool.AddDeviceAsync(gflops: 100);
        var client = await _pool.CreateClientAsync(hu: 10);
        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 1, shardsPerRound: 4));
        await Eventually.UntilAsync(() => Task.FromResult(braggart.Assignments.Count), n => n >= 1, "the braggart getting a shard first");
        Assert.Equal(1_000_000, (await _pool.DeviceAsync(braggart)).EffectiveGflops);

        // Its shard takes 5 s of pool time, well inside the lease, where its claim said microseconds.
        await _pool.AdvanceClockAsync(TimeSpan.FromSeconds(5));
        braggart.Assignments.TryPeek(out var assignment);
        // Honest from now on, before its slot frees: a next shard must not stall too.
        braggart.Behavior = Behavior.Honest;
        Assert.Equal(ResultReceipt.Accepted, await braggart.AnswerHonestlyAsync(assignment!));

        var view = await _pool.DeviceAsync(braggart);
        var options = new PoolOptions();
        PoolClusterFixture.ConfigureTestPool(options);
        var observed = ObservedSpeed.Sample(assignment!.Shard.Flops, TimeSpan.FromSeconds(5), 1, options)!.Value;
        Assert.Equal(1, view.Speed.Samples);
        Assert.Equal(observed, view.Speed.Gflops, 6);
        Assert.Equal(observed, view.EffectiveGflops, 6);
        Assert.True(view.EffectiveGflops < 1, $"effective {view.EffectiveGflops} GFLOP/s");
        Assert.Equal(JobStatus.Completed, (await _pool.WaitUntilFinishedAsync(job.JobId)).Status);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task No_shard_is_ever_routed_to_an_incapable_device()
    {
        var spec = Specs.TeacherTraining(rounds: 2, shardsPerRound: 6);
        var tooLittleMemory = await _pool.AddDeviceAsync(memoryMb: 16, gflops: 5000);
        // A light mlp may go to browsers (BrowserShardRule), but not to one that would take over 30 s on a shard:
        // this one is expected to take 1 s + 40 s (its lease, 2 min or so, would be well within the limit).
        var slowBrowserGflops = JobPlanner.Plan(spec).Requirement.Flops / (40 * 1e9 * new Huginn.Grains.PoolOptions().ComputeEfficiency);
        var browserOnly = await _pool.AddDeviceAsync(kind: DeviceKind.Browser, memoryMb: 1024, runtimes: ["js"], gflops: slowBrowserGflops);
        var gpuWithoutTorch = await _pool.AddDeviceAsync(kind: DeviceKind.Gpu, vramMb: 24_576, runtimes: ["onnx"], gflops: 5000);
        var capable = new[]
        {
            await _pool.AddDeviceAsync(kind: DeviceKind.Gpu, vramMb: 8192, gflops: 1000),
            await _pool.AddDeviceAsync(gflops: 100),
            await _pool.AddDeviceAsync(gflops: 100),
        };
        var client = await _pool.CreateClientAsync(hu: 10);
        var job = await _pool.SubmitAsync(client, spec);

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        Assert.Empty(tooLittleMemory.Assignments);
        Assert.Empty(browserOnly.Assignments);
        Assert.Empty(gpuWithoutTorch.Assignments);
        Assert.True(capable.Sum(d => d.Assignments.Count) >= 12);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Tie_break_with_three_devices_decides_for_the_honest_majority()
    {
        var honestA = await _pool.AddDeviceAsync(gflops: 100);
        var liar = await _pool.AddDeviceAsync(Behavior.AlwaysWrong, gflops: 1000);
        var honestB = await _pool.AddDeviceAsync(gflops: 90);
        var client = await _pool.CreateClientAsync(hu: 10);
        // A budget well above the estimate: tie-breaks cost a third run the estimate only partly foresees.
        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 1, shardsPerRound: 3), maxMicroHu: MicroHu.FromHu(1));

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        // Every shard is audited (new devices); with three devices busy on three shards the liar takes part,
        // and each time the two honest results outvote it.
        Assert.Equal(JobStatus.Completed, done.Status);
        var liarView = await _pool.DeviceAsync(liar);
        Assert.True(liarView.Record.Invalid >= 1, "the liar never took part in a shard");
        Assert.Equal(0, liarView.Record.Verified + liarView.Record.Unaudited);
        Assert.Equal(3, done.Progress.ShardsVerified);
        var a = await _pool.DeviceAsync(honestA);
        var b = await _pool.DeviceAsync(honestB);
        Assert.Equal(0, a.Record.Invalid + b.Record.Invalid);
        Assert.Equal(6, a.Record.Verified + b.Record.Verified);
        var price = Pricing.ShardPriceMicroHu(JobPlanner.Plan(done.Spec).FlopsPerShard, PoolPricing);
        Assert.Equal(6 * price, (await _pool.AccountAsync(honestA.OwnerAccountId)).EarnedMicroHu
            + (await _pool.AccountAsync(honestB.OwnerAccountId)).EarnedMicroHu);
        Assert.Equal(0, (await _pool.AccountAsync(liar.OwnerAccountId)).EarnedMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Cancelling_a_job_refunds_exactly_the_unspent_escrow()
    {
        var devices = new[] { await _pool.AddDeviceAsync(), await _pool.AddDeviceAsync(), await _pool.AddDeviceAsync() };
        var client = await _pool.CreateClientAsync(hu: 10);
        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 5, shardsPerRound: 4));
        await _pool.WaitForJobAsync(job.JobId, j => j.Progress.ShardsDone >= 2, "two shards done");
        foreach (var device in devices) device.Behavior = Behavior.Stalled;

        var cancelled = (await _pool.Grains.GetGrain<IJobGrain>(job.JobId).CancelAsync())!;

        Assert.Equal(JobStatus.Cancelled, cancelled.Status);
        long paid = 0;
        foreach (var device in devices)
        {
            paid += (await _pool.AccountAsync(device.OwnerAccountId)).EarnedMicroHu;
            Assert.Equal(0, (await _pool.DeviceAsync(device)).OpenLeases);
        }
        var fee = Pricing.FeeMicroHu(paid, PoolPricing);
        Assert.Equal(cancelled.EscrowMicroHu - paid - fee, cancelled.RefundedMicroHu);
        Assert.Equal(MicroHu.FromHu(10) - paid - fee, (await _pool.AccountAsync(client)).AvailableMicroHu);
        Assert.Equal(0, (await _pool.AccountAsync(SystemAccounts.Escrow(job.JobId))).HoldingsMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Duplicate_result_is_not_accepted_or_paid_twice()
    {
        var doubler = await _pool.AddDeviceAsync(Behavior.DoubleSubmit);
        await _pool.AddDeviceAsync();
        var client = await _pool.CreateClientAsync(hu: 10);
        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 1, shardsPerRound: 2));

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        var receipts = doubler.Receipts.ToArray();
        Assert.Equal(receipts.Length / 2, receipts.Count(r => r == ResultReceipt.NotLeased));
        var view = await _pool.DeviceAsync(doubler);
        var price = Pricing.ShardPriceMicroHu(JobPlanner.Plan(done.Spec).FlopsPerShard, PoolPricing);
        Assert.Equal(price * (view.Record.Verified + view.Record.Unaudited), (await _pool.AccountAsync(doubler.OwnerAccountId)).EarnedMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Job_that_runs_out_of_budget_stops_cleanly_and_refunds_the_rest()
    {
        var devices = new[] { await _pool.AddDeviceAsync(), await _pool.AddDeviceAsync() };
        var client = await _pool.CreateClientAsync(hu: 10);
        var spec = Specs.TeacherTraining(rounds: 2, shardsPerRound: 4);
        var price = Pricing.ShardPriceMicroHu(JobPlanner.Plan(spec).FlopsPerShard, PoolPricing);
        // Enough for three results with their fee: new devices are audited, so at most one and a half shards.
        var budget = 3 * (price + Pricing.FeeMicroHu(price, PoolPricing));
        var job = await _pool.SubmitAsync(client, spec, maxMicroHu: budget);

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);

        Assert.Equal(JobStatus.Failed, done.Status);
        Assert.Contains("budget exhausted", done.FailureReason);
        var paid = 0L;
        foreach (var device in devices) paid += (await _pool.AccountAsync(device.OwnerAccountId)).EarnedMicroHu;
        Assert.True(paid + Pricing.FeeMicroHu(paid, PoolPricing) <= budget, "the job spent more than its budget");
        Assert.Equal(budget - paid - Pricing.FeeMicroHu(paid, PoolPricing), done.RefundedMicroHu);
        Assert.Equal(MicroHu.FromHu(10) - budget + done.RefundedMicroHu, (await _pool.AccountAsync(client)).AvailableMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Inference_job_returns_every_shards_outputs_in_order()
    {
        for (var i = 0; i < 3; i++) await _pool.AddDeviceAsync();
        var client = await _pool.CreateClientAsync(hu: 10);
        var spec = Specs.Inference(shards: 4);
        var job = await _pool.SubmitAsync(client, spec);

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);
        var result = WeightsFormat.FromBytes(await _pool.ResultBytesAsync(job.JobId));

        Assert.Equal(JobStatus.Completed, done.Status);
        var plan = JobPlanner.Plan(spec);
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);
        var expected = plan.FirstRoundShards
            .SelectMany(s => ReferenceExecutor.Execute(spec, s, weights, ShardData.Load(spec, s)).Values).ToArray();
        Assert.Equal(expected.Length, result.Length);
        Assert.True(TensorComparison.RelativeL2(expected, result) < 1e-5);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Prep_job_output_is_bit_exact()
    {
        for (var i = 0; i < 3; i++) await _pool.AddDeviceAsync(kind: DeviceKind.Browser, memoryMb: 1024, runtimes: ["js"]);
        var client = await _pool.CreateClientAsync(hu: 10);
        var spec = Specs.Quantize(shards: 3);
        var job = await _pool.SubmitAsync(client, spec);

        var done = await _pool.WaitUntilFinishedAsync(job.JobId);
        var result = await _pool.ResultBytesAsync(job.JobId);

        Assert.Equal(JobStatus.Completed, done.Status);
        var expected = JobPlanner.Plan(spec).FirstRoundShards
            .SelectMany(s => ReferenceExecutor.Execute(spec, s, [], ShardData.Load(spec, s)).Bytes).ToArray();
        Assert.Equal(Digest.Sha256Hex(expected), Digest.Sha256Hex(result));
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Shard_that_fails_on_every_device_fails_the_job_cleanly_with_a_reason()
    {
        var devices = new[] { await _pool.AddDeviceAsync(Behavior.GiveBack), await _pool.AddDeviceAsync(Behavior.GiveBack) };
        var client = await _pool.CreateClientAsync(hu: 10);
        var job = await _pool.SubmitAsync(client, Specs.TeacherTraining(rounds: 2, shardsPerRound: 2));
        await Eventually.UntilAsync(() => Task.FromResult(devices.Sum(d => d.Assignments.Count)), n => n >= 2, "both devices giving a shard back");

        // Nobody else is online: after the grace (PoolOptions.NoEligibleDeviceGrace, 60 s) the job fails.
        var done = await _pool.AdvanceUntilFinishedAsync(job.JobId, TimeSpan.FromSeconds(30));

        Assert.Equal(JobStatus.Failed, done.Status);
        // Both contributors online gave it back: nobody else is left to try.
        Assert.Contains("failed on", done.FailureReason);
        Assert.Contains("could run it", done.FailureReason);
        // What the last device said when it gave the shard back reaches the client, quoted, with its code: "internal"
        // is not deterministic, so this shard failed by running out of devices, not at once.
        Assert.Contains("released, internal (\"simulated give-back\")", done.FailureReason);
        Assert.Equal(0, done.SpentMicroHu);
        Assert.Equal(done.EscrowMicroHu, done.RefundedMicroHu);
        Assert.Equal(MicroHu.FromHu(10), (await _pool.AccountAsync(client)).AvailableMicroHu);
        foreach (var device in devices) Assert.Equal(0, (await _pool.DeviceAsync(device)).OpenLeases);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Job_that_only_one_contributors_devices_could_run_is_refused_because_nobody_could_audit_it()
    {
        var owner = await _pool.CreateContributorAsync();
        await _pool.AddDeviceAsync(owner: owner);
        await _pool.AddDeviceAsync(owner: owner);
        var client = await _pool.CreateClientAsync(hu: 10);

        var result = await _pool.Grains.GetGrain<IJobGrain>($"job-lonely-{Guid.NewGuid():N}")
            .SubmitAsync(new JobSubmission(client, Specs.TeacherTraining(rounds: 1, shardsPerRound: 2), null));

        Assert.Equal(JobRefusal.InvalidSpec, result.Refusal);
        Assert.Contains("verification needs devices of at least two", Assert.Single(result.Errors).Reason);
        Assert.Equal(MicroHu.FromHu(10), (await _pool.AccountAsync(client)).AvailableMicroHu);
    }

    [Fact]
    public async Task Submission_without_enough_balance_is_refused_and_charges_nothing()
    {
        await _pool.AddDeviceAsync();
        await _pool.AddDeviceAsync();
        var client = await _pool.CreateClientAsync(hu: 0.000001m);
        var result = await _pool.Grains.GetGrain<IJobGrain>($"job-poor-{Guid.NewGuid():N}")
            .SubmitAsync(new JobSubmission(client, Specs.TeacherTraining(rounds: 2, shardsPerRound: 2), null));

        Assert.False(result.Succeeded);
        Assert.Equal(JobRefusal.InsufficientBalance, result.Refusal);
        Assert.Equal(1, (await _pool.AccountAsync(client)).AvailableMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    private static readonly PricingOptions PoolPricing = TestPricing();

    private static PricingOptions TestPricing()
    {
        var options = new Huginn.Grains.PoolOptions();
        PoolClusterFixture.ConfigureTestPool(options);
        return options.Pricing;
    }
}
