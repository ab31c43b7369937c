using System.Collections.Concurrent;
using System.Diagnostics;
using Huginn.Grains.Interfaces.Devices;
using Orleans.Providers;
using Orleans.Serialization;
using Orleans.Streams;

namespace Huginn.Benchmarks;

/// <summary>
/// Silo-side clock for row 3: Stopwatch timestamps, keyed by lease id, of the moments an assignment passes
/// through the device stream. The pool runs in the benchmark's process, so these compare directly with the
/// timestamps the simulated workers take when they have decoded an assign frame.
/// <list type="bullet">
/// <item>Published: the memory stream's queue grain is handed the assignment (<c>Enqueue</c> entered), i.e. the
/// device grain's <c>OnNextAsync</c> inside <c>OfferAsync</c> (or <see cref="Row3Direct"/>) has put it on the stream.</item>
/// <item>Dequeued: a pulling agent's timer-driven <c>Dequeue</c> poll returned it (the poll-period wait is over).</item>
/// <item>AtApi: the agent's delivery reached the Api's subscription (<c>DeliverBatch</c> on the co-hosted client's
/// stream consumer entered); the Api's handler then queues it for the worker's socket.</item>
/// </list>
/// The queue grain's messages are decoded here (a few microseconds each) to find the lease id inside.
/// </summary>
public sealed class Row3StreamClock(Serializer<MemoryMessageBody> bodies) : IIncomingGrainCallFilter
{
    private static volatile bool _on;

    public static ConcurrentDictionary<string, long> Published { get; } = new();
    public static ConcurrentDictionary<string, long> Dequeued { get; } = new();
    public static ConcurrentDictionary<string, long> AtApi { get; } = new();

    private static long _polls;

    /// <summary>Pulling-agent polls of the queues (empty or not) while on.</summary>
    public static long Polls => Interlocked.Read(ref _polls);

    public static void Start()
    {
        Published.Clear();
        Dequeued.Clear();
        AtApi.Clear();
        Interlocked.Exchange(ref _polls, 0);
        _on = true;
    }

    public static void Stop() => _on = false;

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (!_on)
        {
            await context.Invoke();
            return;
        }
        var method = context.InterfaceMethod;
        if (method?.DeclaringType?.Name == "IStreamConsumerExtension" && method.Name == "DeliverBatch")
        {
            var now = Stopwatch.GetTimestamp();
            for (var i = 0; i < context.Request.GetArgumentCount(); i++)
                if (context.Request.GetArgument(i) is IBatchContainer container)
                    foreach (var (command, _) in container.GetEvents<DeviceCommand>())
                        if (command is ShardAssignment delivered) AtApi.TryAdd(delivered.LeaseId, now);
            await context.Invoke();
            return;
        }
        if (method?.DeclaringType != typeof(IMemoryStreamQueueGrain))
        {
            await context.Invoke();
            return;
        }
        if (method.Name == nameof(IMemoryStreamQueueGrain.Enqueue))
        {
            var now = Stopwatch.GetTimestamp();
            if (context.Request.GetArgument(0) is MemoryMessageData data)
                foreach (var lease in LeasesIn(data)) Published.TryAdd(lease, now);
            await context.Invoke();
            return;
        }
        await context.Invoke();
        if (method.Name == nameof(IMemoryStreamQueueGrain.Dequeue) && context.Result is List<MemoryMessageData> batch)
        {
            var now = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _polls);
            foreach (var data in batch)
                foreach (var lease in LeasesIn(data)) Dequeued.TryAdd(lease, now);
        }
    }

    private IEnumerable<string> LeasesIn(MemoryMessageData data)
    {
        if (data.StreamId.GetNamespace() != DeviceStreams.Namespace) return [];
        return bodies.Deserialize(data.Payload)?.Events.OfType<ShardAssignment>().Select(a => a.LeaseId) ?? [];
    }
}
