using System.Collections.Concurrent;
using System.Diagnostics;
using Huginn.Worker.Agent;
using Huginn.Worker.Hardware;
using Huginn.Workloads;

namespace Huginn.Benchmarks;

/// <summary>A shard's output under its place in the job, so that a run's outputs can be looked up by shard.</summary>
public readonly record struct ShardKey(int Round, int Index);

/// <summary>
/// One run of the training loop without a pool. CPU: the process's over the run, and the computing threads' inside
/// the executor (the rest is slicing the data, averaging, the runtime).
/// </summary>
public sealed record LoopRun(
    int Loops,
    double Seconds,
    long Samples,
    int Shards,
    double MeanShardComputeSeconds,
    double CpuSeconds,
    double ComputeCpuSeconds,
    double GcPauseSeconds,
    IReadOnlyDictionary<ShardKey, ShardOutput> Outputs)
{
    public double SamplesPerSecond => Samples / Seconds;
    public double OtherCpuPerShard => (CpuSeconds - ComputeCpuSeconds) / Shards;
    /// <summary>Share of the loops' time inside the executor (the rest: slicing the data, waiting at the round's end, averaging).</summary>
    public double BusyFraction => MeanShardComputeSeconds * Shards / (Loops * Seconds);
}

/// <summary>
/// The training job in one process, no pool: the same spec, the same shard plans (JobPlanner), the same per-shard
/// work a worker does (ShardData.Load, then the worker's TorchShardExecutor), the same federated average between
/// rounds. <c>loops</c> threads share each round's shards from a queue, as workers share a round's leases; a round
/// ends when all its shards are done, as in the pool.
/// </summary>
public static class Row4TrainingLoop
{
    public static LoopRun Run(JobSpec spec, HardwareProfile profile, int loops)
    {
        var plan = JobPlanner.Plan(spec);
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);
        var outputs = new ConcurrentDictionary<ShardKey, ShardOutput>();
        // One executor per loop, as each worker has its own.
        var executors = Enumerable.Range(0, loops).Select(_ => new TorchShardExecutor(profile)).ToArray();
        long computeTicks = 0;
        var computeCpu = 0.0;
        var cpuAtStart = Row4CpuClock.ProcessSeconds();
        var gcAtStart = GC.GetTotalPauseDuration();
        var clock = Stopwatch.StartNew();
        for (var round = 0; round < plan.Rounds; round++)
        {
            var shards = plan.Shards(round);
            var roundWeights = weights;
            var next = -1;
            var currentRound = round;
            var failures = new ConcurrentQueue<Exception>();
            var threads = executors.Select(executor => new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        var i = Interlocked.Increment(ref next);
                        if (i >= shards.Count) return;
                        var data = ShardData.Load(spec, shards[i]);
                        // Timed around the executor only, as the pool's workers are (Row4TrainingPool.TimedExecutor).
                        var started = Stopwatch.GetTimestamp();
                        var cpu = Row4CpuClock.ThreadSeconds();
                        outputs[new ShardKey(currentRound, i)] = executor.Execute(spec, shards[i], roundWeights, data);
                        cpu = Row4CpuClock.ThreadSeconds() - cpu;
                        Interlocked.Add(ref computeTicks, Stopwatch.GetTimestamp() - started);
                        lock (outputs) computeCpu += cpu;
                    }
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
            }) { IsBackground = true, Name = "row4-loop" }).ToList();
            foreach (var thread in threads) thread.Start();
            foreach (var thread in threads) thread.Join();
            if (failures.TryPeek(out var failure)) throw new InvalidOperationException("the training loop failed", failure);

            // In index order; the pool sums in arrival order, which changes only the last bits (FederatedAverage).
            var average = new FederatedAverage(weights.Length);
            for (var i = 0; i < shards.Count; i++) average.Add(outputs[new ShardKey(round, i)].Values, shards[i].SampleCount);
            weights = average.ApplyTo(weights);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var cpuSeconds = Row4CpuClock.ProcessSeconds() - cpuAtStart;
        var total = (int)plan.TotalShards;
        return new LoopRun(loops, seconds, total * (long)plan.Steps * plan.BatchSize, total,
            computeTicks / (double)Stopwatch.Frequency / total, cpuSeconds, computeCpu, (GC.GetTotalPauseDuration() - gcAtStart).TotalSeconds, outputs);
    }

    /// <summary>Seconds one shard (round 0, shard 0) takes in this process: its slice generated, then trained on.</summary>
    public static double TimeOneShard(JobSpec spec, TorchShardExecutor executor)
    {
        var plan = JobPlanner.Plan(spec);
        var shard = plan.Shard(0, 0);
        var weights = ModelInitializer.Initialize(spec.Model!, spec.Seed);
        var clock = Stopwatch.StartNew();
        executor.Execute(spec, shard, weights, ShardData.Load(spec, shard));
        return clock.Elapsed.TotalSeconds;
    }
}
