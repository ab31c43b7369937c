using System.Collections.Concurrent;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Interfaces.Routing;
using Huginn.Workloads;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;

namespace Huginn.Simulation;

/// <summary>
/// A device without a worker: subscribes to its command stream as the Api does for a real worker, computes shards with
/// the reference executor (tiny models: microseconds), and submits through the device grain, the pool's trust boundary.
/// Each assignment runs on its own task, so a device with several slots works them side by side; round weights are
/// kept per blob, as a worker's cache keeps them.
/// </summary>
/// <remarks>
/// It plays the worker and the Api's edge at once: round weights come from the pool's blob store, and a result goes
/// into it (held by the job, as the edge does) before the device grain is handed its reference. The store is the
/// one registered in the cluster client's services, shared with the silo.
/// </remarks>
public sealed class SimulatedDevice(IClusterClient client, string deviceId, string ownerAccountId)
{
    private readonly IBlobStore _blobs = client.ServiceProvider.GetRequiredService<IBlobStore>();

    /// <summary>What a <see cref="Behavior.ClaimsInvalidData"/> device says, as the TorchSharp worker says it.</summary>
    public const string SimulatedInvalidData = "Class index 9 is not one of the model's 9 classes (outputSize 9: labels 0 to 8).";

    /// <summary>How often a <see cref="Behavior.Sometimes"/> device cheats.</summary>
    public const double CheatProbability = 0.1;

    private readonly ConcurrentDictionary<string, float[]> _weights = new();
    private readonly double _noiseSign = RoutingPartitions.StableHash(deviceId) % 2 == 0 ? 1 : -1;
    // Each cheater is wrong in its own way, so that two cheaters auditing each other do not agree by accident.
    private readonly float _wrongScale = 1f + RoutingPartitions.StableHash(deviceId) / (float)uint.MaxValue;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private Random? _random;
    private StreamSubscriptionHandle<DeviceCommand>? _subscription;
    private CancellationTokenSource? _heartbeats;
    private int _submitted;
    private int _wrong;

    public string DeviceId { get; } = deviceId;
    public string OwnerAccountId { get; } = ownerAccountId;
    public IDeviceGrain Grain => client.GetGrain<IDeviceGrain>(DeviceId);

    /// <summary>Read as each assignment arrives, so it can change mid-run: a sleeper in a test is honest first, then cheats.</summary>
    public volatile Behavior Behavior;

    /// <summary>A silent device stops heartbeating: the pool must notice on its own.</summary>
    public volatile bool Heartbeating = true;

    /// <summary>For <see cref="Behavior.Sleeper"/>: how many shards it works honestly before it cheats on every one.</summary>
    public int HonestShards { get; init; }

    /// <summary>Seeds the draws of <see cref="Behavior.Sometimes"/>.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Works one shard at a time and waits for each shard's verdict before it takes the next, so that "caught after
    /// n shards" is exact.
    /// </summary>
    public bool AwaitsVerdicts { get; init; }

    public ConcurrentQueue<ShardAssignment> Assignments { get; } = new();
    public ConcurrentQueue<ResultReceipt> Receipts { get; } = new();

    /// <summary>What went wrong while working a shard: the stream does not see it, the harness should.</summary>
    public ConcurrentQueue<Exception> Errors { get; } = new();

    /// <summary>Shards worked to a result (a double submit counts once).</summary>
    public int Submitted => Volatile.Read(ref _submitted);

    /// <summary>Of those, the ones it cheated on.</summary>
    public int Wrong => Volatile.Read(ref _wrong);

    /// <summary>Results submitted (and wrong ones among them) when it first saw an invalid verdict on its record; only with <see cref="AwaitsVerdicts"/>.</summary>
    public (int Submitted, int Wrong)? FirstCaught { get; private set; }

    /// <param name="heartbeatEvery">Heartbeats on its own at this interval (pool on the system clock); without it, whoever drives the pool clock heartbeats.</param>
    public async Task ConnectAsync(TimeSpan? heartbeatEvery = null)
    {
        var stream = client.GetStreamProvider(DeviceStreams.Provider).GetStream<DeviceCommand>(DeviceStreams.For(DeviceId));
        _subscription = await stream.SubscribeAsync((DeviceCommand command, StreamSequenceToken? token) =>
        {
            if (command is ShardAssignment assignment)
            {
                Assignments.Enqueue(assignment);
                var behavior = Behavior;
                // Slots run side by side: the stream is not held while a shard is worked on.
                _ = Task.Run(() => WorkAsync(assignment, behavior));
            }
            return Task.CompletedTask;
        });
        await Grain.HeartbeatAsync(DeviceHeartbeat.Empty);
        if (heartbeatEvery is { } interval)
        {
            _heartbeats = new CancellationTokenSource();
            _ = HeartbeatLoopAsync(interval, _heartbeats.Token);
        }
    }

    public async Task DisconnectAsync()
    {
        if (_heartbeats is not null) await _heartbeats.CancelAsync();
        _heartbeats = null;
        if (_subscription is not null) await _subscription.UnsubscribeAsync();
        _subscription = null;
        await Grain.DisconnectAsync();
    }

    private async Task HeartbeatLoopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(interval, cancellationToken);
                if (Heartbeating) await Grain.HeartbeatAsync(DeviceHeartbeat.Empty);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WorkAsync(ShardAssignment assignment, Behavior behavior)
    {
        try
        {
            if (behavior == Behavior.Stalled) return;
            if (behavior == Behavior.GiveBack)
            {
                await Grain.ReleaseLeaseAsync(assignment.LeaseId, "simulated give-back", ShardErrorCodes.Internal);
                return;
            }
            if (behavior == Behavior.ClaimsInvalidData || (behavior == Behavior.FailsEvaluations && assignment.Shard.Evaluate))
            {
                await Grain.ReleaseLeaseAsync(assignment.LeaseId, SimulatedInvalidData, ShardErrorCodes.InvalidData);
                return;
            }
            if (AwaitsVerdicts) await _oneAtATime.WaitAsync();
            try
            {
                var n = Interlocked.Increment(ref _submitted);
                var cheat = behavior switch
                {
                    Behavior.AlwaysWrong or Behavior.Lazy => true,
                    Behavior.Sleeper => n > HonestShards,
                    Behavior.Sometimes => NextDouble() < CheatProbability,
                    Behavior.FlattersEvaluations => assignment.Shard.Evaluate,
                    _ => false,
                };
                if (cheat) Interlocked.Increment(ref _wrong);
                var output = await ComputeAsync(assignment, behavior, cheat);
                var receipt = await SubmitAsync(assignment, output);
                Receipts.Enqueue(receipt);
                if (behavior == Behavior.DoubleSubmit) Receipts.Enqueue(await SubmitAsync(assignment, output));
                if (AwaitsVerdicts && receipt == ResultReceipt.Accepted) await AwaitVerdictAsync(n);
            }
            finally
            {
                if (AwaitsVerdicts) _oneAtATime.Release();
            }
        }
        catch (Exception e)
        {
            Errors.Enqueue(e);
        }
    }

    /// <summary>
    /// Answers an assignment it holds honestly, now: for tests that decide when a result arrives (a
    /// <see cref="Behavior.Stalled"/> device, then the clock moved, then this).
    /// </summary>
    public async Task<ResultReceipt> AnswerHonestlyAsync(ShardAssignment assignment)
    {
        var output = await ComputeAsync(assignment, Behavior.Honest, cheat: false);
        var receipt = await SubmitAsync(assignment, output);
        Receipts.Enqueue(receipt);
        return receipt;
    }

    /// <summary>The one way results leave the device: stored as a blob held by the job, then named to the device grain.</summary>
    private async Task<ResultReceipt> SubmitAsync(ShardAssignment assignment, ShardOutput output)
    {
        var bytes = new byte[output.Values.Length * sizeof(float) + output.Bytes.Length];
        WeightsFormat.ToBytes(output.Values).CopyTo(bytes, 0);
        output.Bytes.CopyTo(bytes, output.Values.Length * sizeof(float));
        var stored = await _blobs.PutHeldAsync(bytes, BlobHolders.Job(assignment.JobId));
        if (!stored.Succeeded) throw new InvalidOperationException($"the result could not be stored: {stored.Outcome}");
        return await Grain.SubmitResultAsync(new ShardResult(assignment.LeaseId, new ResultRef(stored.BlobId!, bytes.Length, output.Loss, output.Samples)));
    }

    /// <summary>Waits (up to 5 s) until the record holds a verdict for each result so far; notes the first invalid one.</summary>
    private async Task AwaitVerdictAsync(int results)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            var record = (await Grain.GetAsync())!.Record;
            if (record.Invalid > 0 && FirstCaught is null) FirstCaught = (results, Wrong);
            if (record.Verified + record.Invalid + record.Unaudited + record.Disputed >= results) return;
            await Task.Delay(5);
        }
    }

    private double NextDouble()
    {
        lock (_gate) return (_random ??= new Random(Seed)).NextDouble();
    }

    private async Task<ShardOutput> ComputeAsync(ShardAssignment assignment, Behavior behavior, bool cheat)
    {
        var spec = assignment.Spec;
        var shard = assignment.Shard;
        var data = SyntheticData.Generate(ShardData.DatasetOf(spec, shard).Synthetic!, spec.Model!, shard.SampleOffset, shard.SampleCount);
        var honest = ReferenceExecutor.Execute(spec, shard, await WeightsAsync(assignment), data);
        if (behavior == Behavior.Lazy) return honest with { Values = new float[honest.Values.Length] };
        if (behavior == Behavior.FakeLoss) return honest with { Loss = 1e30 };
        if (behavior == Behavior.FakeSamples) return honest with { Samples = -1 };
        if (behavior == Behavior.FlattersEvaluations && shard.Evaluate) return honest with { Values = [0f, 1f], Loss = 0 };
        // Wrong values of the honest ones' size: unaudited wrong deltas must degrade a model, not overflow it.
        if (cheat) return honest with { Values = honest.Values.Select((v, i) => _wrongScale * (-v + 0.01f * ((i % 7) - 3))).ToArray() };
        // Honest devices differ in the last bits (other BLAS, other thread count): well inside tolerance.
        return honest with { Values = honest.Values.Select((v, i) => v * (float)(1 + _noiseSign * 1e-6 * ((i % 5) - 2))).ToArray() };
    }

    private async Task<float[]> WeightsAsync(ShardAssignment assignment)
    {
        if (assignment.WeightsBlobId is not { } blobId) return [];
        if (_weights.TryGetValue(blobId, out var cached)) return cached;
        var bytes = await _blobs.ReadAllBytesAsync(blobId) ?? throw new InvalidOperationException($"round weights {blobId} not found");
        return _weights[blobId] = WeightsFormat.FromBytes(bytes);
    }
}
