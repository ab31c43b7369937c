using System.Collections.Concurrent;
using Huginn.Blobs;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Workloads;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Streams;

namespace Huginn.Tests.Pool;

public enum Behavior
{
    /// <summary>Computes the real result, with float noise of about 1e-6 like a different honest device.</summary>
    Honest,
    /// <summary>Returns a plausible-looking but wrong result every time.</summary>
    AlwaysWrong,
    /// <summary>Returns zeros without computing (a lazy device hoping nobody checks).</summary>
    Lazy,
    /// <summary>Takes leases and never answers, but keeps heartbeating.</summary>
    Stalled,
    /// <summary>Sends every honest result twice.</summary>
    DoubleSubmit,
    /// <summary>Gives every lease back at once, like a worker whose runtime fails on the shard.</summary>
    GiveBack,
}

/// <summary>
/// A device in a test: subscribes to its stream like the Api does for a real worker, computes shards with
/// the reference executor, and submits through the device grain, the pool's trust boundary.
/// </summary>
public sealed class SimulatedDevice(IClusterClient client, string deviceId, string ownerAccountId)
{
    private StreamSubscriptionHandle<DeviceCommand>? _subscription;
    private readonly double _noiseSign = (RoutingHash(deviceId) % 2 == 0) ? 1 : -1;

    public string DeviceId { get; } = deviceId;
    public string OwnerAccountId { get; } = ownerAccountId;
    public IDeviceGrain Grain => client.GetGrain<IDeviceGrain>(DeviceId);

    /// <summary>Can change mid-test: a sleeper is honest first, then cheats.</summary>
    public volatile Behavior Behavior = Behavior.Honest;

    /// <summary>A silent device stops heartbeating: the pool must notice on its own.</summary>
    public volatile bool Heartbeating = true;

    public ConcurrentQueue<ShardAssignment> Assignments { get; } = new();
    public ConcurrentQueue<ResultReceipt> Receipts { get; } = new();

    public async Task ConnectAsync()
    {
        var stream = client.GetStreamProvider(DeviceStreams.Provider).GetStream<DeviceCommand>(DeviceStreams.For(DeviceId));
        _subscription = await stream.SubscribeAsync((command, _) => OnCommandAsync(command));
        await Grain.HeartbeatAsync(DeviceHeartbeat.Empty);
    }

    public async Task DisconnectAsync()
    {
        if (_subscription is not null) await _subscription.UnsubscribeAsync();
        _subscription = null;
        await Grain.DisconnectAsync();
    }

    private async Task OnCommandAsync(DeviceCommand command)
    {
        if (command is not ShardAssignment assignment) return;
        Assignments.Enqueue(assignment);
        var behavior = Behavior;
        if (behavior == Behavior.Stalled) return;
        if (behavior == Behavior.GiveBack)
        {
            await Grain.ReleaseLeaseAsync(assignment.LeaseId);
            return;
        }

        var output = await ComputeAsync(assignment, behavior);
        Receipts.Enqueue(await Grain.SubmitResultAsync(new ShardResult(assignment.LeaseId, output)));
        if (behavior == Behavior.DoubleSubmit)
            Receipts.Enqueue(await Grain.SubmitResultAsync(new ShardResult(assignment.LeaseId, output)));
    }

    private async Task<ShardOutput> ComputeAsync(ShardAssignment assignment, Behavior behavior)
    {
        var spec = assignment.Spec;
        var shard = assignment.Shard;
        var data = SyntheticData.Generate(spec.Dataset.Synthetic!, spec.Model!, shard.SampleOffset, shard.SampleCount);
        var weights = assignment.WeightsBlobId is { } blobId
            ? WeightsFormat.FromBytes((await client.ServiceProvider.GetRequiredService<IBlobStore>().ReadAllBytesAsync(blobId))!)
            : assignment.Weights;
        var honest = ReferenceExecutor.Execute(spec, shard, weights, data);
        return behavior switch
        {
            Behavior.AlwaysWrong => honest with { Values = honest.Values.Select((v, i) => -v + 0.01f * ((i % 7) - 3)).ToArray() },
            Behavior.Lazy => honest with { Values = new float[honest.Values.Length] },
            // Honest devices differ in the last bits (other BLAS, other thread count): well inside tolerance.
            _ => honest with { Values = honest.Values.Select((v, i) => v * (float)(1 + _noiseSign * 1e-6 * ((i % 5) - 2))).ToArray() },
        };
    }

    private static uint RoutingHash(string value) => Huginn.Grains.Interfaces.Routing.RoutingPartitions.StableHash(value);
}
