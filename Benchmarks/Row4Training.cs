using System.Globalization;
using Huginn.Worker.Agent;
using Huginn.Worker.Hardware;
using Huginn.Workloads;

namespace Huginn.Benchmarks;

/// <summary>
/// Row 4: samples/s of a training job through the pool (real TorchSharp workers behind the Api) against the same
/// training loop in one process with no pool, for shards of about 0.1 s, 1 s and 5 s of compute, with 1 and 2
/// workers. Target: ≥ 0.95 of the loop at 1 s shards.
/// </summary>
public static class Row4Training
{
    /// <summary>A shard length to calibrate for, and the job's shape at that length.</summary>
    public sealed record ShardCase(double TargetSeconds, int Rounds, int ShardsPerRound);

    /// <param name="CompareSlotsAt">
    /// The shard length at which two workers run twice, with 1 slot each (a worker asks for its next shard by
    /// returning a result) and with the worker's default (<see cref="WorkerOptions.DefaultSlots"/>: one shard queued);
    /// elsewhere only the default. One worker holds a round's shards (see <see cref="SlotsFor"/>).
    /// </param>
    /// <param name="Budget">Pool runs not started by then are skipped (and say so): the full run stays within ~4 minutes on a busy machine.</param>
    /// <param name="HostCases">The pool host's own CPU and memory per shard, workers in their own processes (<see cref="Row4HostCost"/>).</param>
    public sealed record Sizes(ShardCase[] Cases, int[] Workers, bool WarmUp, double CompareSlotsAt, TimeSpan Budget, Row4HostCost.Case[] HostCases);

    public static Sizes Full { get; } = new([new(0.1, 4, 8), new(1, 2, 8), new(5, 2, 2)], [1, 2], WarmUp: true, CompareSlotsAt: 1, TimeSpan.FromSeconds(170), Row4HostCost.Full);
    public static Sizes Smoke { get; } = new([new(0.05, 1, 2)], [1, 2], WarmUp: false, CompareSlotsAt: 0.05, TimeSpan.FromSeconds(15), Row4HostCost.Smoke);

    /// <summary>The README's worked example: 669,706 parameters, 1.34 MFLOP forward per sample; a 2.7 MB delta per result.</summary>
    private static readonly ModelSpec Model = new()
    {
        Type = ModelSpec.Mlp, InputSize = 784, HiddenSizes = [512, 512], OutputSize = 10, Loss = ModelSpec.CrossEntropy,
    };

    /// <summary>Samples in each shard's slice (mini-batches draw from it with replacement); generated on the device.</summary>
    private const int SliceSamples = 256;
    private const int PreferredBatch = 128;

    public static async Task<List<string[]>> RunAsync(Sizes sizes)
    {
        // One torch thread per worker: libtorch's intra-op pool is process-wide, so each shard runs on the thread
        // that computes it; the loop gets the same thread count as the pool's workers in total.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var profile = HardwareProbe.Detect(threads: 1);
        var plans = Calibrate(sizes.Cases, profile);
        List<string[]> rows =
        [
            [
                "4: calibration",
                string.Join("; ", plans.Select(p => $"{Seconds(p.Case.TargetSeconds)} → {p.Steps} steps × {p.Batch} = {p.Steps * p.Batch:N0} samples (≈ {p.ExpectedSeconds:F2} s)")),
                $"MLP 784→512→512→10 (cross-entropy, 2.7 MB delta per result), synthetic blobs, {SliceSamples} samples a slice; "
                    + $"{profile.Gflops:F0} GFLOP/s measured (1 thread), {Environment.ProcessorCount} cores",
                $"load average at start: {LoadAverage()}",
            ],
        ];

        // First, with no other pool in this process: its CPU is then the host's alone.
        rows.AddRange(await Row4HostCost.RunAsync(sizes.HostCases, profile));
        clock.Restart();

        await using var pool = await Row4TrainingPool.StartAsync(profile, sizes.Workers.Max());
        if (sizes.WarmUp)
        {
            // JIT, Kestrel, grain activations and the first blob fetches, outside the measured jobs.
            var first = plans[0];
            var warm = Spec(first.Case with { Rounds = 1, ShardsPerRound = 2 }, first.Steps, first.Batch, seed: 1);
            var outputs = Row4TrainingLoop.Run(warm, profile, 1).Outputs;
            foreach (var workers in sizes.Workers)
                await pool.RunAsync(warm, workers, SlotsFor(workers, warm, WorkerOptions.DefaultSlots), outputs, TimeSpan.FromSeconds(60));
        }

        var seed = 100UL;
        foreach (var plan in plans)
        {
            var spec = Spec(plan.Case, plan.Steps, plan.Batch, seed++);
            foreach (var workers in sizes.Workers)
            {
                int[] slotChoices = workers > 1 && plan.Case.TargetSeconds == sizes.CompareSlotsAt ? [1, WorkerOptions.DefaultSlots] : [WorkerOptions.DefaultSlots];
                // Each pool run sits between two runs of the loop and is compared with their mean: the neighbours on
                // this shared machine come and go, and they slow the loop as much as the pool. The loop after runs the
                // first round only (same shards, same rate), to save time.
                LoopRun? before = null;
                foreach (var slots in slotChoices)
                {
                    var who = workers == 1 ? "1 worker + auditor" : $"{workers} workers, {slots} slot{(slots == 1 ? "" : "s")}";
                    if (clock.Elapsed > sizes.Budget)
                    {
                        rows.Add([$"4: {who}, {Seconds(plan.Case.TargetSeconds)} shards", "skipped: the run's time budget was spent", "", ""]);
                        continue;
                    }
                    before ??= Row4TrainingLoop.Run(spec, profile, workers);
                    var jobSamples = (double)spec.Rounds * spec.ShardsPerRound * spec.LocalSteps * spec.BatchSize;
                    var timeout = TimeSpan.FromSeconds(jobSamples / before.SamplesPerSecond * 4 + 30);
                    PoolRun run;
                    try
                    {
                        run = await pool.RunAsync(spec, workers, SlotsFor(workers, spec, slots), before.Outputs, timeout);
                    }
                    catch (InvalidOperationException e)
                    {
                        // One stuck job is a finding, not a reason to lose the row's other figures.
                        Console.Error.WriteLine(e);
                        rows.Add([$"4: {who}, {Seconds(plan.Case.TargetSeconds)} shards", $"**failed**: {(e.InnerException ?? e).Message.ReplaceLineEndings(" ").Replace("|", "/")}", "", ""]);
                        continue;
                    }
                    var after = Row4TrainingLoop.Run(spec with { Rounds = 1 }, profile, workers);
                    rows.Add(Row(plan, before, after, run));
                    // The next pool run is compared with this loop and the one after it; the auditor keeps the whole job's answers.
                    before = after with { Outputs = before.Outputs };
                }
            }
        }
        rows.Add(["4: machine", $"load average at the end: {LoadAverage()}", "other processes share these cores; compare only ratios taken in this run", ""]);
        return rows;
    }

    /// <summary>The 1-, 5- and 15-minute load averages (Linux), to tell a quiet run from a crowded one.</summary>
    private static string LoadAverage()
    {
        try
        {
            return string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    /// <summary>
    /// One worker holds every shard of a round (at least <paramref name="slots"/>): any shard it could not take would
    /// go to the auditor, which must only audit (it answers without computing). Two workers hold <paramref name="slots"/> each.
    /// </summary>
    private static int SlotsFor(int workers, JobSpec spec, int slots) =>
        workers == 1 ? Math.Clamp(spec.ShardsPerRound, slots, WorkerOptions.MaxSlots) : slots;

    private static string[] Row(ShardPlanChoice plan, LoopRun before, LoopRun after, PoolRun run)
    {
        var loopRate = (before.SamplesPerSecond + after.SamplesPerSecond) / 2;
        var efficiency = run.SamplesPerSecond / loopRate;
        var loopCpuPerSample = (before.CpuSeconds / before.Samples + after.CpuSeconds / after.Samples) / 2;
        var cpuRatio = run.CpuSeconds / run.AcceptedSamples / loopCpuPerSample;
        var c = plan.Case;
        var who = run.Workers == 1 ? "1 worker + auditor" : $"{run.Workers} workers";
        return
        [
            $"4: {who}, {Seconds(c.TargetSeconds)} shards ({c.Rounds} rounds × {c.ShardsPerRound}, {run.Slots} slot{(run.Slots == 1 ? "" : "s")} a worker)",
            $"**{efficiency:F2}** ({run.SamplesPerSecond / before.SamplesPerSecond:F2} / {run.SamplesPerSecond / after.SamplesPerSecond:F2} against the loop before / after): "
                + $"{run.SamplesPerSecond:N0} samples/s accepted, {run.ShardsDone} shards in {run.Seconds:F2} s; "
                + $"audited {run.ShardsAudited} ({run.AuditFraction:P0}), results {run.ResultsFromWorkers} from workers + {run.ResultsFromAuditor} from the auditor "
                + $"({run.SamplesComputed / run.Seconds:N0} samples/s computed); workers busy {run.WorkerBusyFraction:P0}, gap {run.MeanGapSeconds * 1000:F0} ms between shards of a round, "
                + $"{run.MeanRoundTurnaroundSeconds * 1000:F0} ms between rounds, "
                + $"first shard at {run.FirstShardSeconds * 1000:F0} ms, done {run.TailSeconds * 1000:F0} ms after the last compute; "
                + $"shard compute {run.MeanShardComputeSeconds:F3} s; CPU besides compute {run.OtherCpuPerShard * 1000:F0} ms a shard; CPU per sample {cpuRatio:F2} × the loop's; "
                + $"GC pauses {run.GcPauseSeconds / run.Seconds:P1} of the time",
            $"loop {loopRate:N0} samples/s ({before.Loops} thread{(before.Loops == 1 ? "" : "s")}; before {before.SamplesPerSecond:N0}, after {after.SamplesPerSecond:N0}); "
                + $"busy {(before.BusyFraction + after.BusyFraction) / 2:P0}, shard compute {(before.MeanShardComputeSeconds + after.MeanShardComputeSeconds) / 2:F3} s; "
                + $"CPU besides compute {(before.OtherCpuPerShard + after.OtherCpuPerShard) / 2 * 1000:F0} ms a shard; "
                + $"GC pauses {(before.GcPauseSeconds + after.GcPauseSeconds) / (before.Seconds + after.Seconds):P1} of the time",
            c.TargetSeconds == 1 ? $"≥ 0.95 at 1 s: {(efficiency >= 0.95 ? "met" : "missed")}" : "(target is at 1 s)",
        ];
    }

    public sealed record ShardPlanChoice(ShardCase Case, int Steps, int Batch, double ExpectedSeconds);

    private static JobSpec Spec(ShardCase c, int steps, int batch, ulong seed) => new()
    {
        Kind = WorkloadKind.Train,
        Model = Model,
        Dataset = new DatasetSpec
        {
            Synthetic = new SyntheticDatasetSpec { Kind = SyntheticDatasetSpec.Blobs, Samples = (long)c.ShardsPerRound * SliceSamples, Seed = seed, Noise = 1.5 },
        },
        Rounds = c.Rounds,
        ShardsPerRound = c.ShardsPerRound,
        LocalSteps = steps,
        BatchSize = batch,
        LearningRate = 0.05f,
        Seed = seed,
    };

    /// <summary>
    /// Measures a probe shard, scales steps (then batch, past 100 steps) to each target, and measures once more for
    /// targets up to 1 s; longer targets scale from the longest measured one (measuring a 5 s shard twice is not worth it).
    /// </summary>
    private static List<ShardPlanChoice> Calibrate(ShardCase[] cases, HardwareProfile profile)
    {
        var executor = new TorchShardExecutor(profile);
        var probe = new ShardCase(0, 1, 1);
        // Warm-up: libtorch's first calls, JIT, the allocator; the first shards of a process run several times slower.
        for (var i = 0; i < 3; i++) Row4TrainingLoop.TimeOneShard(Spec(probe, 10, PreferredBatch, 7), executor);
        var probeSamples = 20 * PreferredBatch;
        var secondsPerSample = Fastest(3, () => Row4TrainingLoop.TimeOneShard(Spec(probe, 20, PreferredBatch, 7), executor)) / probeSamples;

        var choices = new List<ShardPlanChoice>();
        foreach (var c in cases.OrderBy(c => c.TargetSeconds))
        {
            var (steps, batch) = Shape(c.TargetSeconds / secondsPerSample);
            if (c.TargetSeconds <= 1.0)
            {
                var (s, b) = (steps, batch);
                secondsPerSample = Fastest(2, () => Row4TrainingLoop.TimeOneShard(Spec(c, s, b, 7), executor)) / (steps * batch);
                (steps, batch) = Shape(c.TargetSeconds / secondsPerSample);
            }
            choices.Add(new ShardPlanChoice(c, steps, batch, steps * batch * secondsPerSample));
        }
        return choices;
    }

    /// <summary>The least of a few timings: on a shared machine the neighbours only ever add time.</summary>
    private static double Fastest(int times, Func<double> measure) => Enumerable.Range(0, times).Min(_ => measure());

    /// <summary>Batches of <see cref="PreferredBatch"/>; past the pool's 100 local steps the batch grows instead.</summary>
    private static (int Steps, int Batch) Shape(double samples)
    {
        var steps = (int)Math.Round(samples / PreferredBatch);
        if (steps <= SpecValidator.MaxLocalSteps) return (Math.Max(1, steps), PreferredBatch);
        return (SpecValidator.MaxLocalSteps, (int)Math.Min(SpecValidator.MaxBatchSize, Math.Round(samples / SpecValidator.MaxLocalSteps)));
    }

    private static string Seconds(double s) => s.ToString(s < 1 ? "0.0#" : "0", CultureInfo.InvariantCulture) + " s";
}
