using System.Collections.Concurrent;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Workloads;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;

namespace Huginn.Benchmarks;

public enum Strategy
{
    Honest,
    /// <summary>A wrong result every time.</summary>
    AlwaysWrong,
    /// <summary>Honest for a number of shards, then wrong every time.</summary>
    Sleeper,
    /// <summary>Wrong with probability 0.1 (seeded).</summary>
    Sometimes,
    /// <summary>Zeros without computing.</summary>
    Lazy,
}

/// <summary>
/// A zero-compute device: subscribes to its stream like the Api does for a worker, runs the reference executor
/// on a tiny model (microseconds), and submits through the device grain. Keeps its round weights per blob,
/// as a worker's cache does, so a shard costs no blob call.
/// </summary>
public sealed class SimDevice(IClusterClient client, string deviceId, string ownerAccountId, Strategy strategy, int sleeperHonestShards, int seed)
{
    private readonly ConcurrentDictionary<string, float[]> _blobs = new();
    private readonly Random _random = new(seed);
    private readonly Lock _gate = new();
    // A cheater works one shard at a time and waits for that shard's verdict, so "caught after n shards" is exact.
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private StreamSubscriptionHandle<DeviceCommand>? _subscription;
    private CancellationTokenSource? _heartbeats;
    private int _submitted;
    private int _wrong;

    public string DeviceId { get; } = deviceId;
    public string OwnerAccountId { get; } = ownerAccountId;
    public Strategy Strategy { get; } = strategy;
    public IDeviceGrain Grain => client.GetGrain<IDeviceGrain>(DeviceId);

    public int Submitted => Volatile.Read(ref _submitted);
    public int Wrong => Volatile.Read(ref _wrong);

    /// <summary>Results submitted (and wrong ones among them) when the device first saw an invalid verdict on its record.</summary>
    public (int Submitted, int Wrong)? FirstCaught { get; private set; }

    public ConcurrentQueue<Exception> Errors { get; } = new();

    public async Task ConnectAsync()
    {
        var stream = client.GetStreamProvider(DeviceStreams.Provider).GetStream<DeviceCommand>(DeviceStreams.For(DeviceId));
        _subscription = await stream.SubscribeAsync((DeviceCommand command, StreamSequenceToken? token) =>
        {
            // Slots run side by side: the stream is not held while a shard is worked on.
            if (command is ShardAssignment assignment) _ = Task.Run(() => RunAsync(assignment));
            return Task.CompletedTask;
        });
        await Grain.HeartbeatAsync(DeviceHeartbeat.Empty);
        _heartbeats = new CancellationTokenSource();
        _ = HeartbeatLoopAsync(_heartbeats.Token);
    }

    public async Task DisconnectAsync()
    {
        if (_heartbeats is not null) await _heartbeats.CancelAsync();
        if (_subscription is not null) await _subscription.UnsubscribeAsync();
        await Grain.DisconnectAsync();
    }

    private async Task HeartbeatLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
                await Grain.HeartbeatAsync(DeviceHeartbeat.Empty);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunAsync(ShardAssignment assignment)
    {
        var waitForVerdict = Strategy != Strategy.Honest;
        if (waitForVerdict) await _oneAtATime.WaitAsync();
        try
        {
            var n = Interlocked.Increment(ref _submitted);
            var cheat = Strategy switch
            {
                Strategy.Honest => false,
                Strategy.Sleeper => n > sleeperHonestShards,
                Strategy.Sometimes => NextDouble() < 0.1,
                _ => true,
            };
            if (cheat) Interlocked.Increment(ref _wrong);
            var output = await ComputeAsync(assignment, cheat);
            var receipt = await Grain.SubmitResultAsync(new ShardResult(assignment.LeaseId, output));
            if (waitForVerdict && receipt == ResultReceipt.Accepted) await AwaitVerdictAsync(n);
        }
        catch (Exception e)
        {
            Errors.Enqueue(e);
        }
        finally
        {
            if (waitForVerdict) _oneAtATime.Release();
        }
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
        lock (_gate) return _random.NextDouble();
    }

    private async Task<ShardOutput> ComputeAsync(ShardAssignment assignment, bool cheat)
    {
        var spec = assignment.Spec;
        var shard = assignment.Shard;
        var data = SyntheticData.Generate(spec.Dataset.Synthetic!, spec.Model!, shard.SampleOffset, shard.SampleCount);
        var weights = assignment.Weights;
        if (assignment.WeightsBlobId is { } blobId && !_blobs.TryGetValue(blobId, out weights))
        {
            weights = WeightsFormat.FromBytes((await client.ServiceProvider.GetRequiredService<IBlobStore>().ReadAllBytesAsync(blobId))!);
            _blobs[blobId] = weights;
        }
        var honest = ReferenceExecutor.Execute(spec, shard, weights, data);
        if (!cheat) return honest;
        if (Strategy == Strategy.Lazy) return honest with { Values = new float[honest.Values.Length] };
        // Each cheater is wrong in its own way, so two cheaters never form a majority by accident.
        var offset = 1f + (uint)DeviceId.GetHashCode() % 1000 / 100f;
        return honest with { Values = honest.Values.Select((v, i) => -v + offset + 0.01f * (i % 7)).ToArray() };
    }
}
