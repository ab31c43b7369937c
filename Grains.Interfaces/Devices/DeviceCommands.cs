using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Devices;

/// <summary>What the pool tells a device on its stream. The Api forwards these over the worker socket.</summary>
[GenerateSerializer, Immutable, Alias("huginn.device-command")]
public abstract record DeviceCommand;

/// <summary>
/// Run one shard before the deadline. The device is never told whether this run is an audit:
/// an audited shard and a plain one look exactly alike.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.shard-assignment")]
public sealed record ShardAssignment : DeviceCommand
{
    [Id(0)] public required string LeaseId { get; init; }
    [Id(1)] public required string JobId { get; init; }
    [Id(2)] public required JobSpec Spec { get; init; }
    [Id(3)] public required ShardPlan Shard { get; init; }
    // Id 4 carried the weights inline; they travel as a blob (WeightsBlobId). Do not reuse 4.
    [Id(5)] public required DateTimeOffset Deadline { get; init; }
    /// <summary>What the shard pays when its result is accepted, so the worker can show it.</summary>
    [Id(6)] public required long PriceMicroHu { get; init; }
    /// <summary>Content ids of the inputs, so a worker can fetch and cache them once.</summary>
    [Id(7)] public string[] InputBlobIds { get; init; } = [];
    /// <summary>The round's (or model's) weights as a blob: fetched once per round by a worker, not once per shard.</summary>
    [Id(8)] public string? WeightsBlobId { get; init; }
    /// <summary>
    /// A dataset job: the chunks this shard's slice lies in (also in <see cref="InputBlobIds"/>, so the device may read
    /// them, and no other chunk of the dataset).
    /// </summary>
    [Id(9)] public ShardChunks? DatasetChunks { get; init; }
}

/// <summary>Another connection took over this device: the older one must close.</summary>
[GenerateSerializer, Immutable, Alias("huginn.connection-replaced")]
public sealed record ConnectionReplaced([property: Id(0)] string ConnectionId) : DeviceCommand;

/// <summary>
/// The device's token was revoked or rotated by its owner (published by the Api): the connection it opened must
/// close now, not whenever it next reconnects.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.device-token-revoked")]
public sealed record DeviceTokenRevoked : DeviceCommand;

/// <summary>Stop working on a lease: it expired, was cancelled with its job, or the device was banned.</summary>
[GenerateSerializer, Immutable, Alias("huginn.lease-revoked")]
public sealed record LeaseRevoked(
    [property: Id(0)] string LeaseId,
    [property: Id(1)] LeaseEndReason Reason) : DeviceCommand;

[GenerateSerializer, Alias("huginn.lease-end-reason")]
public enum LeaseEndReason
{
    Completed = 0,
    Expired = 1,
    DeviceOffline = 2,
    JobEnded = 3,
    DeviceBanned = 4,
    NotNeeded = 5,
    /// <summary>The worker gave the lease back unfinished (shutting down cleanly).</summary>
    Released = 6,
}

/// <summary>
/// A device's result for one lease, as the trust boundary (Api) hands it in: a reference to the result's blob,
/// never the bytes. (Id 1 carried the output inline; do not reuse it.)
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.shard-result")]
public sealed record ShardResult(
    [property: Id(0)] string LeaseId,
    [property: Id(2)] ResultRef Result);

[GenerateSerializer, Alias("huginn.result-receipt")]
public enum ResultReceipt
{
    /// <summary>Taken; payment depends on verification.</summary>
    Accepted = 0,
    /// <summary>No open lease with this id on this device: unknown, already answered, expired or revoked.</summary>
    NotLeased = 1,
    /// <summary>The output does not have the shape the shard declares; counted against the device.</summary>
    Malformed = 2,
}

/// <summary>Where a device's commands are published: one stream per device.</summary>
public static class DeviceStreams
{
    public const string Provider = "huginn";
    public const string Namespace = "device-commands";

    public static StreamId For(string deviceId) => StreamId.Create(Namespace, deviceId);

    /// <summary>
    /// Memory mode: how many queues carry the device streams (<c>Huginn:Streams:Queues</c>). Silo and Api
    /// client configure the same number. Each queue is polled on its own timer, so fewer queues poll less
    /// often in total; one silo has no use for more.
    /// </summary>
    public const string MemoryQueuesKey = "Huginn:Streams:Queues";

    public const int DefaultMemoryQueues = 2;

    /// <summary>The configured number of queues, the default when none is configured.</summary>
    public static int MemoryQueues(string? configured)
    {
        if (string.IsNullOrWhiteSpace(configured)) return DefaultMemoryQueues;
        return int.TryParse(configured, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var queues) && queues > 0
            ? queues
            : throw new InvalidOperationException($"{MemoryQueuesKey}='{configured}' is not a number of queues; use a positive integer (default {DefaultMemoryQueues}).");
    }
}
