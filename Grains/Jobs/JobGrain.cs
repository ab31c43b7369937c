using Microsoft.Extensions.DependencyInjection;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Grains.Interfaces.Pool;
using Huginn.Grains.Interfaces.Verification;
using Huginn.Grains.Rules;
using Huginn.Workloads;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Huginn.Grains.Jobs;

/// <summary>
/// One client job. It persists the job's state and performs what the rules decide: the round's transitions
/// (<see cref="Round"/>), leases (<see cref="ShardDispatcher"/>), verification (<see cref="Verification"/>, applied
/// by the verification grain), money (<see cref="Payment"/>, applied through <see cref="JobOutbox"/>). Every decision
/// is persisted before it is acted on, and every action (transfer, verdict) is idempotent, so a crash at any point
/// replays, never repeats.
/// </summary>
public sealed class JobGrain(
    [PersistentState("job", StorageNames.State)] IPersistentState<JobState> state,
    [PersistentState("job-checkpoints", StorageNames.State)] IPersistentState<JobCheckpointsState> checkpoints,
    IOptions<PoolOptions> options,
    [FromKeyedServices(PoolClock.Key)] TimeProvider time,
    IBlobStore blobs,
    ILogger<JobGrain> logger) : Grain, IJobGrain, IRemindable
{
    private const string KeepAliveReminder = "job-keepalive";
    private readonly PoolOptions _options = options.Value;
    private IGrainTimer? _sweepTimer;
    private JobPlan? _plan;

    /// <summary>Results that arrived since the last batch, in arrival order. Memory only: see <see cref="DeliverResultAsync"/>.</summary>
    private readonly List<ArrivedResult> _arrived = [];
    private IGrainTimer? _batchTimer;

    private sealed record ArrivedResult(string LeaseId, string DeviceId, ResultRef Result);

    /// <summary>The training round's running sum of accepted deltas: memory only, re-derived from <see cref="JobState.RoundResults"/>.</summary>
    private RoundAggregator? _aggregator;

    /// <summary>The last finished round's sums, which the next round's aggregator clears and reuses.</summary>
    private double[]? _spareSums;

    private JobState S => state.State;
    private Round Current => S.Current;

    /// <summary>The spec's plan, derived once per activation: planning validates the spec, which is not per-shard work.</summary>
    private JobPlan Plan => _plan ??= JobPlanner.Plan(S.Spec!);
    private string JobId => this.GetPrimaryKeyString();
    private bool IsActive => S.Status is JobStatus.Funding or JobStatus.Queued or JobStatus.Running;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!S.Exists) return;
        if (IsActive) StartSweeping();
        await FlushOutboxesAsync();
        await RecordInOwnersIndexAsync();
    }

    /// <summary>
    /// Tells the owner's job index (<see cref="IOwnerJobsGrain"/>) this job's state. At creation, at each change of
    /// state and at each activation, which repairs a report lost with a crash; a failure is logged, never the job's.
    /// </summary>
    private async Task RecordInOwnersIndexAsync()
    {
        try
        {
            await GrainFactory.GetGrain<IOwnerJobsGrain>(S.OwnerAccountId).RecordAsync(new OwnedJob(JobId, S.Spec!.Kind, S.Status, S.CreatedAt));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Job {JobId}: its owner's job index could not be updated; it is at the job's next activation", JobId);
        }
    }

    private ShardDispatcher? _dispatcher;
    private ShardDispatcher Dispatcher => _dispatcher ??= new ShardDispatcher(GrainFactory, _options, time, logger);

    public async Task<JobSubmissionResult> SubmitAsync(JobSubmission submission)
    {
        if (S.Exists) return new JobSubmissionResult(View(), [], JobRefusal.AlreadyExists);

        // Every check an estimate runs too (SubmissionChecks), whether any device online could run it at all, and its
        // price: once, here. Refused now, not discovered later.
        var priced = await GrainFactory.GetGrain<IEstimatorGrain>(0).EstimateForAsync(submission.ClientAccountId, submission.Spec);
        if (!priced.CanRun) return new JobSubmissionResult(null, priced.Errors, JobRefusal.InvalidSpec);
        var (datasetChunks, datasetErrors) = await DatasetInputs.LoadAsync(GrainFactory, submission.Spec, submission.ClientAccountId);
        if (datasetErrors.Count > 0) return new JobSubmissionResult(null, datasetErrors, JobRefusal.InvalidSpec);
        var (initialWeights, inputErrors) = await JobInputs.LoadAsync(GrainFactory, blobs, submission.Spec, submission.ClientAccountId);
        if (inputErrors.Count > 0) return new JobSubmissionResult(null, inputErrors, JobRefusal.InvalidSpec);

        var spec = submission.Spec;
        var plan = JobPlanner.Plan(spec);
        var price = Pricing.ShardPriceMicroHu(plan.FlopsPerShard, _options.Pricing);
        var budget = Payment.EscrowBudget(plan, submission.MaxMicroHu, _options.Pricing);
        var reserve = Payment.ReservePerLease(price, _options.Pricing);
        if (budget < reserve)
        {
            return new JobSubmissionResult(null,
                [new SpecError("maxHu", $"must cover at least one shard: {MicroHu.ToHu(reserve)} HU")], JobRefusal.BudgetBelowEstimateMinimum);
        }

        S.Exists = true;
        S.Status = JobStatus.Funding;
        S.OwnerAccountId = submission.ClientAccountId;
        S.Spec = spec;
        S.Estimate = priced.Cost;
        S.EstimatedEtaSeconds = priced.EtaSeconds;
        S.EurPerHu = priced.EurPerHu;
        S.EscrowMicroHu = budget;
        S.ShardPriceMicroHu = price;
        S.Rounds = plan.Rounds;
        S.ShardsPerRound = plan.ShardsPerRound;
        S.Requirement = plan.Requirement;
        if (plan.HasValidation)
        {
            S.EvaluationPriceMicroHu = Pricing.ShardPriceMicroHu(plan.EvaluationFlops, _options.Pricing);
            S.ValidationLosses = [.. Enumerable.Repeat(double.NaN, plan.Rounds)];
            S.ValidationAccuracies = [.. Enumerable.Repeat(double.NaN, plan.Rounds)];
        }
        S.CreatedAt = time.GetUtcNow();
        await state.WriteStateAsync();

        await GrainFactory.GetGrain<IAccountGrain>(SystemAccounts.Escrow(JobId)).OpenAsync(AccountKind.Escrow);
        var funded = await GrainFactory.GetGrain<IAccountGrain>(submission.ClientAccountId)
            .TransferAsync(Payment.Escrow(JobId, submission.ClientAccountId, budget));
        if (funded is not (TransferOutcome.Applied or TransferOutcome.Duplicate))
        {
            await state.ClearStateAsync();
            return new JobSubmissionResult(null,
                [new SpecError("maxHu", $"the balance does not cover the escrow of {MicroHu.ToHu(budget)} HU")], JobRefusal.InsufficientBalance);
        }

        S.Status = JobStatus.Queued;
        S.WeightsBlobId = initialWeights;
        S.DatasetChunks = datasetChunks;
        await JobInputs.ReferenceAsync(blobs, spec, initialWeights, JobId);
        await DatasetInputs.ReferenceAsync(blobs, datasetChunks, JobId);
        StartRound(0);
        await ReportLoadAsync();
        await state.WriteStateAsync();
        await RecordInOwnersIndexAsync();
        Telemetry.PoolMeters.JobSubmitted(spec.Kind);
        await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        StartSweeping();
        logger.LogInformation("Job {JobId} submitted: {Kind}, {Rounds} round(s) × {Shards} shard(s), escrow {Escrow} micro-HU",
            JobId, spec.Kind, S.Rounds, S.ShardsPerRound, budget);
        await DispatchAsync();
        return new JobSubmissionResult(View(), [], JobRefusal.None);
    }

    public Task<JobView?> GetAsync() => Task.FromResult(S.Exists ? View() : null);

    public async Task<JobView?> CancelAsync()
    {
        if (!S.Exists) return null;
        if (IsActive) await FinishAsync(JobStatus.Cancelled, "cancelled by the client");
        return View();
    }

    /// <summary>
    /// The result of a completed job; for a training job that failed or was cancelled after at least one round, the
    /// weights after its last completed round (paid for, and kept by <see cref="KeepOnlyResultBlobsAsync"/>). Null
    /// otherwise: a running job, or one that stopped before anything was averaged.
    /// </summary>
    public Task<JobResult?> GetResultAsync()
    {
        if (!S.Exists) return Task.FromResult<JobResult?>(null);
        var train = S.Spec!.Kind == WorkloadKind.Train;
        var stoppedWithCheckpoint = train && S.Status is JobStatus.Failed or JobStatus.Cancelled && S.RoundLosses.Count > 0;
        if (S.Status != JobStatus.Completed && !stoppedWithCheckpoint) return Task.FromResult<JobResult?>(null);
        var result = train
            ? new JobResult(WorkloadKind.Train, [S.WeightsBlobId!], 4L * Plan.ParameterCount, S.RoundLosses.ToArray(), S.RoundLosses.Count)
            : new JobResult(S.Spec.Kind, S.RoundResults.OrderBy(r => r.Key).Select(r => r.Value.BlobId).ToArray(),
                S.RoundResults.Values.Sum(r => r.Bytes), [], 1);
        return Task.FromResult<JobResult?>(result);
    }

    public Task<JobCheckpoint[]> GetCheckpointsAsync() => Task.FromResult(checkpoints.State.Checkpoints.ToArray());

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // The reminder only exists to bring a running job back after its silo restarted.
        if (!S.Exists || !IsActive)
        {
            await UnregisterKeepAliveAsync();
            return;
        }
        StartSweeping();
    }

    // ---- Results -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Queues the result for the next batch and returns. Results that arrive while a batch is being settled
    /// wait in the activation's queue, so the next batch takes all of them: one state write, one payment call
    /// and one dispatch pass for many shards, instead of one each (docs/BENCHMARKS.md, row 1). A result held
    /// here and lost with the activation is the same as a lost one-way call: its lease expires and the shard
    /// runs again, and nothing was paid for it.
    /// </summary>
    public Task DeliverResultAsync(string leaseId, string deviceId, ResultRef result)
    {
        if (!IsActive) return Task.CompletedTask;
        _arrived.Add(new ArrivedResult(leaseId, deviceId, result));
        if (_arrived.Count == 1)
        {
            // A timer tick is a message like any other: it runs after the results already queued behind this one.
            _batchTimer ??= this.RegisterGrainTimer(SettleOrStartOverAsync, new GrainTimerCreationOptions
            {
                DueTime = Timeout.InfiniteTimeSpan,
                Period = Timeout.InfiniteTimeSpan,
            });
            _batchTimer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// A batch that fails half-way (a verification grain or the database away) has marked leases delivered in memory
    /// only: the activation starts over from its persisted state, where they are still open and expire like lost results.
    /// </summary>
    private async Task SettleOrStartOverAsync(CancellationToken cancellationToken)
    {
        try
        {
            await SettleArrivedAsync(cancellationToken);
        }
        catch
        {
            DeactivateOnIdle();
            throw;
        }
    }

    /// <summary>Settles every result that arrived since the last batch, then persists, pays and dispatches once.</summary>
    private async Task SettleArrivedAsync(CancellationToken cancellationToken)
    {
        var batch = _arrived.ToList();
        _arrived.Clear();
        // A result for a lease this job no longer holds open (late, duplicate, after cancel) is never paid.
        if (batch.Count == 0 || !IsActive) return;

        var audited = new List<(ShardState Shard, VerificationEntry Entry)>();
        foreach (var result in batch)
        {
            if (!Current.TryDeliver(result.LeaseId, result.DeviceId, out var shard, out var lease)) continue;
            if (shard.Audited)
            {
                // An evaluation's two values are outputs of a forward pass: compared like an inference's.
                var kind = RoundEvaluation.IsEvaluation(Plan, shard) ? WorkloadKind.Infer : S.Spec!.Kind;
                var tolerance = Tolerance.For(kind, S.Spec!.Precision, _options.Tolerances, lease.HardwareClass);
                audited.Add((shard, new VerificationEntry(result.DeviceId, result.LeaseId, kind, tolerance, result.Result)));
                continue;
            }
            SettleLease(shard, lease, Verdict.Unaudited);
            await AcceptAsync(shard, result.Result, verified: false);
        }

        // Each audited shard has its own verification grain: ask them side by side, each shard's results in order.
        var decided = await Task.WhenAll(audited.GroupBy(a => a.Shard).Select(async group =>
        {
            var verification = VerificationOf(group.Key);
            var decisions = new List<VerificationDecision>();
            foreach (var (_, entry) in group) decisions.Add(await verification.AddResultAsync(entry));
            return (Shard: group.Key, Decisions: decisions);
        }));
        foreach (var (shard, decisions) in decided)
        {
            foreach (var decision in decisions) await ApplyDecisionAsync(shard, decision);
        }

        // Decisions are persisted before they are acted on; what the flush clears from the outboxes is persisted with
        // the next write (the dispatch's, or the round's), since replaying an applied transfer or verdict changes nothing.
        await state.WriteStateAsync();
        var flushed = await JobOutbox.FlushAsync(GrainFactory, JobId, S.TransferOutbox, S.VerdictOutbox, logger);
        if (Current.IsComplete) await CompleteRoundAsync();
        else await DispatchAsync(expectedFreeSlots: batch.Count, persist: flushed, probe: false);
    }

    private async Task ApplyDecisionAsync(ShardState shard, VerificationDecision decision)
    {
        switch (decision.Status)
        {
            case VerificationStatus.AwaitingResults:
                return;

            case VerificationStatus.NeedsTieBreak:
                logger.LogInformation("Job {JobId}: shard {Index} results disagree (relative L2 {Distance:G3}); a third device breaks the tie",
                    JobId, shard.Index, decision.Distances.FirstOrDefault());
                Round.RequireTieBreak(shard);
                return;

            case VerificationStatus.Decided:
                Telemetry.PoolMeters.AuditDecided();
                foreach (var lease in Round.Delivered(shard).ToList())
                {
                    var won = decision.Winners.Contains(lease.DeviceId);
                    SettleLease(shard, lease, won ? Verdict.Verified : Verdict.Invalid);
                    if (!won)
                    {
                        S.DevicesCaught.Add(lease.DeviceId);
                        logger.LogWarning("Job {JobId}: device {DeviceId} was outvoted on shard {Index}: not paid, slashed",
                            JobId, lease.DeviceId, shard.Index);
                    }
                }
                await EndLeasesAsync(Round.EndSurplus(shard), LeaseEndReason.NotNeeded);
                if (!RoundEvaluation.IsEvaluation(Plan, shard)) S.ShardsVerified++;
                await AcceptAsync(shard, decision.Accepted!, verified: true);
                await VerificationOf(shard).ClearAsync();
                return;

            case VerificationStatus.Disputed:
                logger.LogWarning("Job {JobId}: shard {Index} is disputed (no two results agree); nobody is paid, it runs again",
                    JobId, shard.Index);
                var disputers = Round.Delivered(shard).ToList();
                foreach (var lease in disputers) SettleLease(shard, lease, Verdict.Disputed);
                await EndLeasesAsync(Round.EndSurplus(shard), LeaseEndReason.NotNeeded);
                await VerificationOf(shard).ClearAsync();
                Round.Retry(shard, disputers.Select(l => l.DeviceId));
                return;
        }
    }

    /// <summary>Records a lease's verdict for its device and, for accepted work, its payment (<see cref="Payment.ForVerdict"/>).</summary>
    private void SettleLease(ShardState shard, LeaseState lease, Verdict verdict)
    {
        Round.Settle(lease);
        Telemetry.PoolMeters.LeaseSettled(verdict);
        S.VerdictOutbox.Add(new PendingVerdict(lease.DeviceId, new VerdictNotice(Current.RefOf(JobId, shard), lease.LeaseId, verdict)));
        var price = RoundEvaluation.IsEvaluation(Plan, shard) ? S.EvaluationPriceMicroHu : S.ShardPriceMicroHu;
        var payment = Payment.ForVerdict(JobId, lease.LeaseId, lease.DeviceId, lease.OwnerAccountId, verdict,
            price, time.GetUtcNow(), _options.HoldingPeriod);
        if (payment is null) return;
        S.TransferOutbox.Add(payment);
        S.PaidMicroHu += payment.AmountMicroHu;
    }

    /// <summary>
    /// Folds an accepted result into the round: its reference into the state, and for training its delta into the
    /// round's sum (streamed from the blob store on the thread pool, not on this turn). The round's loss comes from
    /// <paramref name="verified"/> results only: an unaudited result's loss is the device's word, and a device that
    /// computes honestly but reports any finite loss would otherwise write the client's metrics.
    /// </summary>
    private async Task AcceptAsync(ShardState shard, ResultRef result, bool verified)
    {
        if (RoundEvaluation.IsEvaluation(Plan, shard))
        {
            await AcceptEvaluationAsync(shard, result);
            return;
        }
        Accept(shard, result, verified);
    }

    /// <summary>
    /// An evaluation's metrics go to the job's per-round arrays, never to the round's aggregator. Unaudited ones are
    /// recorded too: the evaluation is the whole output, and a device that lies about it is caught like any other
    /// (it is drawn for audit at its own rate, and a lie outvoted costs it the payment and its stake).
    /// </summary>
    private async Task AcceptEvaluationAsync(ShardState shard, ResultRef result)
    {
        Round.Accept(shard);
        var round = RoundEvaluation.EvaluatedRound(Current.Number);
        try
        {
            var metrics = await RoundEvaluation.ReadAsync(blobs, result, Plan, S.Spec!.Model!);
            RoundEvaluation.Record(S.ValidationLosses, S.ValidationAccuracies, S.Rounds, round, metrics);
            logger.LogInformation("Job {JobId}: round {Round} validation loss {Loss:F5}, accuracy {Accuracy}", JobId, round + 1, metrics.MeanLoss, metrics.Accuracy);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or ArgumentException)
        {
            // Metrics, not training: the round's validation stays null rather than failing the job.
            logger.LogWarning(ex, "Job {JobId}: round {Round}'s evaluation result could not be read; its validation metrics stay null", JobId, round + 1);
        }
    }

    /// <summary>
    /// An evaluation that cannot succeed (exhausted, failing deterministically, nobody left to run it) is given up:
    /// its round's metrics stay null, and training goes on. A failed evaluation never fails a training job.
    /// </summary>
    private async Task GiveUpEvaluationAsync(ShardState shard, string why)
    {
        Round.Accept(shard);
        await EndLeasesAsync(Round.EndSurplus(shard), LeaseEndReason.NotNeeded);
        logger.LogWarning("Job {JobId}: the evaluation of round {Round} is given up ({Why}); its validation metrics stay null",
            JobId, RoundEvaluation.EvaluatedRound(Current.Number) + 1, why);
        await state.WriteStateAsync();
        if (Current.IsComplete) await CompleteRoundAsync();
        else await DispatchAsync();
    }

    private void Accept(ShardState shard, ResultRef result, bool verified)
    {
        Round.Accept(shard);
        S.ShardsDone++;
        Telemetry.PoolMeters.ShardAccepted(verified);
        if (S.Spec!.Kind == WorkloadKind.Train)
        {
            var samples = Plan.Shard(Current.Number, shard.Index).SampleCount;
            Aggregator.Add(result, samples);
            if (verified)
            {
                S.RoundSamples += samples;
                S.RoundLossSum += result.Loss * samples;
            }
        }
        S.RoundResults[shard.Index] = result;
    }

    /// <summary>The round's aggregator; after the activation was lost, one that has re-added the round's accepted deltas.</summary>
    private RoundAggregator Aggregator
    {
        get
        {
            if (_aggregator is { } current && current.Round == Current.Number) return current;
            var accepted = S.RoundResults.OrderBy(r => r.Key).Select(r => (r.Value, (long)Plan.Shard(Current.Number, r.Key).SampleCount)).ToList();
            if (accepted.Count > 0) logger.LogInformation("Job {JobId}: re-deriving round {Round}'s sum from {Count} accepted result(s)", JobId, Current.Number + 1, accepted.Count);
            _aggregator = RoundAggregator.Replay(blobs, Current.Number, checked((int)Plan.ParameterCount), accepted, _spareSums);
            _spareSums = null;
            return _aggregator;
        }
    }

    // ---- Rounds --------------------------------------------------------------------------------------------------

    private void StartRound(int round)
    {
        S.Current = RoundEvaluation.Start(Plan, round);
        S.RoundResults = [];
        S.RoundSamples = 0;
        S.RoundLossSum = 0;
        // StartRound follows the previous round's completion: its aggregator is done with its sums.
        _spareSums = _aggregator?.Sums ?? _spareSums;
        _aggregator = null;
    }

    private async Task CompleteRoundAsync()
    {
        if (Current.Number >= S.Rounds)
        {
            // The round of the last evaluation only: training was done already.
            S.Current = Round.Finished(S.Rounds);
            await FinishAsync(JobStatus.Completed, null);
            return;
        }
        if (S.Spec!.Kind == WorkloadKind.Train)
        {
            string next;
            try
            {
                next = await Aggregator.CompleteAsync(S.WeightsBlobId!);
            }
            catch (InvalidDataException ex)
            {
                await FinishAsync(JobStatus.Failed, $"round {Current.Number + 1} could not be averaged: {ex.Message}");
                return;
            }
            // The checkpoint: the next round starts from these weights, and they stay while the job holds them.
            await blobs.AddReferenceAsync(next, BlobHolders.Job(JobId));
            S.WeightsBlobId = next;
            await RecordCheckpointAsync(new JobCheckpoint(Current.Number + 1, next, 4L * Plan.ParameterCount, time.GetUtcNow()));
            // NaN when no shard of the round was verified: the metrics then say null, not a device's unchecked word.
            S.RoundLosses.Add(S.RoundSamples == 0 ? double.NaN : S.RoundLossSum / S.RoundSamples);
            logger.LogInformation("Job {JobId}: round {Round}/{Rounds} done, loss {Loss:F5} (verified shards)", JobId, Current.Number + 1, S.Rounds, S.RoundLosses[^1]);
        }
        if (Current.Number + 1 <= RoundEvaluation.LastRound(Plan))
        {
            StartRound(Current.Number + 1);
            await ReportLoadAsync();
            await state.WriteStateAsync();
            await DispatchAsync(expectedFreeSlots: S.ShardsPerRound);
            return;
        }
        S.Current = Round.Finished(S.Rounds);
        await FinishAsync(JobStatus.Completed, null);
    }

    /// <summary>
    /// Written before the job's state moves past the round: a crash between the two completes the round again, and its
    /// checkpoint replaces the one recorded for that round.
    /// </summary>
    private async Task RecordCheckpointAsync(JobCheckpoint checkpoint)
    {
        checkpoints.State.Checkpoints.RemoveAll(c => c.Round >= checkpoint.Round);
        checkpoints.State.Checkpoints.Add(checkpoint);
        await checkpoints.WriteStateAsync();
    }

    /// <summary>Tells the pool's queue what is left: at submission, at each round, and at the end.</summary>
    private Task ReportLoadAsync()
    {
        var remaining = IsActive ? (S.Rounds - Current.Number) * S.ShardsPerRound - Current.ShardsDone : 0;
        var flopsPerShard = S.Spec is null ? 0 : Plan.FlopsPerShard;
        return GrainFactory.GetGrain<IPoolLoadGrain>(IPoolLoadGrain.Key)
            .ReportAsync(new JobLoad(JobId, Math.Max(0, remaining), (double)remaining * flopsPerShard, IsActive && remaining > 0));
    }

    // ---- Leases --------------------------------------------------------------------------------------------------

    /// <summary>Leases every shard that still needs results, as far as devices and budget allow (<see cref="ShardDispatcher"/>).</summary>
    private async Task DispatchAsync(int expectedFreeSlots = 1, bool persist = false, bool probe = true)
    {
        if (S.Status is not (JobStatus.Queued or JobStatus.Running))
        {
            if (persist) await state.WriteStateAsync();
            return;
        }
        var job = new DispatchJob(JobId, S.Spec!, Plan, S.WeightsBlobId, S.ShardPriceMicroHu, S.OwnerAccountId, S.DatasetChunks, S.EvaluationPriceMicroHu);
        var result = await Dispatcher.DispatchAsync(job, Current, expectedFreeSlots, probe, beingOffered =>
            Payment.CanReserveAnotherLease(S.PaidMicroHu, Current.ActiveLeases + beingOffered, Math.Max(S.ShardPriceMicroHu, S.EvaluationPriceMicroHu), S.EscrowMicroHu, _options.Pricing));
        if (result.Changed || persist)
        {
            var started = result.Changed && S.Status == JobStatus.Queued;
            if (started) S.Status = JobStatus.Running;
            await state.WriteStateAsync();
            if (started) await RecordInOwnersIndexAsync();
        }
        if (result.Exhausted is { } evaluation && IsActive && RoundEvaluation.IsEvaluation(Plan, evaluation))
        {
            await GiveUpEvaluationAsync(evaluation, "no device of another contributor could run it");
            return;
        }
        if (result.Exhausted is { } exhausted && IsActive)
        {
            await FinishAsync(JobStatus.Failed,
                $"shard {exhausted.Index} of round {Current.Number + 1} failed on {exhausted.Failures} lease(s) of {exhausted.FailedOwnerCount} contributor(s) (last: {exhausted.LastFailure}); no device of another contributor could run it");
            return;
        }
        // Results awaiting a tie-break cannot progress without a new lease: only running leases keep the job alive.
        if (result.BudgetShort && !Current.AnyOpenLease)
        {
            await FinishAsync(JobStatus.Failed, "budget exhausted: the escrow cannot pay for the remaining shards");
        }
    }

    public async Task LeaseLostAsync(string leaseId, string deviceId, LeaseEndReason reason, bool malformed, string? detail, string? code)
    {
        // The device's words (detail) reach the client if the shard fails everywhere (ShardState.LastFailure), or at once
        // when devices of two owners give it back with the same deterministic code (DeterministicFailure).
        if (!Current.TryLose(leaseId, deviceId, reason, malformed, detail, code, out var shard)) return;
        Telemetry.PoolMeters.LeaseLost(reason);
        if (malformed)
        {
            // A malformed result is wrong on its face: it counts as an invalid verdict without needing a second device (Slashing).
            S.DevicesCaught.Add(deviceId);
            S.VerdictOutbox.Add(new PendingVerdict(deviceId, new VerdictNotice(Current.RefOf(JobId, shard), leaseId, Verdict.Invalid)));
        }
        logger.LogInformation("Job {JobId}: lease {LeaseId} on {DeviceId} lost ({Reason}{Malformed}); shard {Index} goes elsewhere",
            JobId, leaseId, deviceId, reason, malformed ? ", malformed result" : "", shard.Index);
        await state.WriteStateAsync();
        await FlushOutboxesAsync();
        if (!await FailIfDeterministicAsync(shard) && !await FailIfShardExhaustedAsync(shard)) await DispatchAsync();
    }

    /// <summary>
    /// Devices of two owners failed the shard with the same deterministic code (a label outside the model's classes…):
    /// every other device would too, so the job fails now with that code and the worker's words, refunding the rest.
    /// </summary>
    private async Task<bool> FailIfDeterministicAsync(ShardState shard)
    {
        if (!IsActive || DeterministicFailure.ConclusiveCode(shard.OwnersByFailureCode) is not { } code) return false;
        if (RoundEvaluation.IsEvaluation(Plan, shard))
        {
            await GiveUpEvaluationAsync(shard, $"devices of two owners failed it with {code}");
            return true;
        }
        // The concluding release is the shard's last failure: its words are the ones quoted.
        var text = shard.LastFailureCode == code ? shard.LastFailureText : null;
        await FinishAsync(JobStatus.Failed, DeterministicFailure.Reason(shard.Index, Current.Number + 1, code, shard.OwnersByFailureCode[code].Count, text));
        return true;
    }

    /// <summary>A shard that keeps failing on device after device will not succeed: the job fails cleanly, refunding the rest.</summary>
    private async Task<bool> FailIfShardExhaustedAsync(ShardState shard)
    {
        if (!Round.IsExhausted(shard, _options) || !IsActive) return false;
        if (RoundEvaluation.IsEvaluation(Plan, shard))
        {
            await GiveUpEvaluationAsync(shard, $"failed on {shard.Failures} leases");
            return true;
        }
        await FinishAsync(JobStatus.Failed,
            $"shard {shard.Index} of round {Current.Number + 1} failed on {shard.Failures} leases of {shard.FailedOwnerCount} contributors (last: {shard.LastFailure}); no device could run it");
        return true;
    }

    /// <summary>Timer: expires overdue leases, retries shards nobody could take, finishes interrupted settlements.</summary>
    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        if (!IsActive)
        {
            StopSweeping();
            return;
        }
        var expired = Current.Expire(time.GetUtcNow());
        foreach (var (shard, lease) in expired)
        {
            Telemetry.PoolMeters.LeaseLost(LeaseEndReason.Expired);
            logger.LogInformation("Job {JobId}: lease {LeaseId} on {DeviceId} expired; shard {Index} goes elsewhere",
                JobId, lease.LeaseId, lease.DeviceId, shard.Index);
        }
        if (expired.Count > 0) await state.WriteStateAsync();
        await EndLeasesAsync(expired.Select(e => e.Lease), LeaseEndReason.Expired);
        await FlushOutboxesAsync();
        foreach (var (shard, _) in expired)
        {
            if (await FailIfShardExhaustedAsync(shard)) return;
        }
        await DispatchAsync(expectedFreeSlots: expired.Count);
    }

    private async Task EndLeasesAsync(IEnumerable<LeaseState> leases, LeaseEndReason reason)
    {
        foreach (var lease in leases) await GrainFactory.GetGrain<IDeviceGrain>(lease.DeviceId).EndLeaseAsync(lease.LeaseId, reason);
    }

    // ---- The end ---------------------------------------------------------------------------------------------------

    /// <summary>Ends the job: leases revoked, the fee charged on paid work, every other micro-HU refunded (<see cref="Payment.Settle"/>).</summary>
    private async Task FinishAsync(JobStatus status, string? reason)
    {
        var open = Current.OpenLeases().ToList();
        await EndLeasesAsync(open, LeaseEndReason.JobEnded);
        foreach (var shard in Current.Shards.Values)
        {
            foreach (var lease in shard.Active) lease.Status = LeaseStatus.Lost;
        }
        S.Status = status;
        S.FailureReason = status == JobStatus.Completed ? null : reason;
        S.FinishedAt = time.GetUtcNow();
        Telemetry.PoolMeters.JobFinished(status, S.Spec!.Kind);
        var settlement = Payment.Settle(JobId, S.OwnerAccountId, S.EscrowMicroHu, S.PaidMicroHu, _options.Pricing);
        S.FeeMicroHu = settlement.FeeMicroHu;
        S.RefundedMicroHu = settlement.RefundedMicroHu;
        S.TransferOutbox.AddRange(settlement.Transfers);
        await state.WriteStateAsync();
        StopSweeping();
        await FlushOutboxesAsync();
        await KeepOnlyResultBlobsAsync(status);
        await UnregisterKeepAliveAsync();
        await ReportLoadAsync();
        await RecordInOwnersIndexAsync();
        logger.LogInformation("Job {JobId} {Status}{Reason}: paid {Paid}, fee {Fee}, refunded {Refund} micro-HU",
            JobId, status, reason is null ? "" : $" ({reason})", S.PaidMicroHu, S.FeeMicroHu, S.RefundedMicroHu);
    }

    /// <summary>
    /// The job's working blobs (round checkpoints, results, its inputs) are released to the collector; what the client
    /// can still download stays: the final weights or outputs, and the last checkpoint of a training job that stopped.
    /// A store that cannot be reached now only delays collection (logged), never the job's end.
    /// </summary>
    private async Task KeepOnlyResultBlobsAsync(JobStatus status)
    {
        var kept = new List<string>();
        if (S.WeightsBlobId is { } weights && S.Spec!.Kind == WorkloadKind.Train) kept.Add(weights);
        // Every round's checkpoint stays downloadable (and can seed another job) as long as the result does.
        kept.AddRange(checkpoints.State.Checkpoints.Select(c => c.BlobId));
        if (status == JobStatus.Completed && S.Spec!.Kind != WorkloadKind.Train) kept.AddRange(S.RoundResults.Values.Select(r => r.BlobId));
        try
        {
            foreach (var blobId in kept.Distinct()) await blobs.AddReferenceAsync(blobId, BlobHolders.Result(JobId));
            await blobs.RemoveHolderAsync(BlobHolders.Job(JobId));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Job {JobId}: its working blobs could not be released yet; they stay until a later collection finds them unreferenced", JobId);
        }
    }

    private async Task FlushOutboxesAsync()
    {
        if (await JobOutbox.FlushAsync(GrainFactory, JobId, S.TransferOutbox, S.VerdictOutbox, logger)) await state.WriteStateAsync();
    }

    private IVerificationGrain VerificationOf(ShardState shard) => GrainFactory.GetGrain<IVerificationGrain>(Current.RefOf(JobId, shard).ToString());

    private void StartSweeping()
    {
        _sweepTimer ??= this.RegisterGrainTimer(SweepAsync, new GrainTimerCreationOptions
        {
            DueTime = _options.SweepInterval,
            Period = _options.SweepInterval,
            KeepAlive = true,
        });
    }

    private void StopSweeping()
    {
        _sweepTimer?.Dispose();
        _sweepTimer = null;
    }

    private async Task UnregisterKeepAliveAsync()
    {
        var reminder = await this.GetReminder(KeepAliveReminder);
        if (reminder is not null) await this.UnregisterReminder(reminder);
    }

    private JobView View()
    {
        var totalShards = S.Rounds * S.ShardsPerRound;
        return new JobView
        {
            JobId = JobId,
            OwnerAccountId = S.OwnerAccountId,
            Status = S.Status,
            Progress = new JobProgress(totalShards, S.ShardsDone, S.ShardsVerified, Math.Min(Current.Number + 1, S.Rounds), S.Rounds),
            Estimate = S.Estimate!,
            EstimatedEtaSeconds = S.EstimatedEtaSeconds,
            EurPerHu = S.EurPerHu,
            ValidationLosses = S.ValidationLosses.ToArray(),
            ValidationAccuracies = S.ValidationAccuracies.ToArray(),
            EscrowMicroHu = S.EscrowMicroHu,
            SpentMicroHu = IsActive ? Payment.SpentSoFar(S.PaidMicroHu, _options.Pricing) : S.PaidMicroHu + S.FeeMicroHu,
            RefundedMicroHu = S.RefundedMicroHu,
            RoundLosses = S.RoundLosses.ToArray(),
            FailureReason = S.FailureReason,
            CreatedAt = S.CreatedAt,
            FinishedAt = S.FinishedAt,
            DevicesCaught = S.DevicesCaught.Order(StringComparer.Ordinal).ToArray(),
            Spec = S.Spec!,
        };
    }
}
