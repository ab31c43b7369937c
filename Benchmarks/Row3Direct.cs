using System.Diagnostics;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Protocol;
using Orleans.Streams;

namespace Huginn.Benchmarks;

/// <summary>
/// Assignments published straight onto the device streams, as a device grain's <c>OfferAsync</c> publishes
/// them, but with no job behind them: the gateway alone (memory stream → Api subscription → socket → worker),
/// without the job and routing grains that limit a real job's pace (row 1). The assignments are copies of a
/// real one (same spec and shard plan, so the same frame size) under lease ids of their own; no lease is
/// opened, so the worker's result is answered "notLeased" after one device-grain call.
/// </summary>
public sealed class Row3Direct(IClusterClient cluster, IReadOnlyList<string> deviceIds, AssignMessage template, Row3Fleet fleet)
{
    public const string LeasePrefix = "direct-";

    private readonly IAsyncStream<DeviceCommand>[] _streams = deviceIds
        .Select(id => cluster.GetStreamProvider(DeviceStreams.Provider).GetStream<DeviceCommand>(DeviceStreams.For(id)))
        .ToArray();
    private long _published;

    public long Published => Interlocked.Read(ref _published);

    private Task PublishAsync()
    {
        var n = Interlocked.Increment(ref _published);
        var assignment = new ShardAssignment
        {
            LeaseId = $"{LeasePrefix}{n}",
            JobId = "row3-direct",
            Spec = template.Spec,
            Shard = template.Shard,
            WeightsBlobId = template.WeightsBlobId,
            Deadline = DateTimeOffset.UtcNow.AddHours(1),
            PriceMicroHu = template.PriceMicroHu,
        };
        // Round robin over every connected worker.
        return _streams[(int)(n % _streams.Length)].OnNextAsync(assignment);
    }

    /// <summary>
    /// About <paramref name="perSecond"/> assignments a second for the window, at random moments (exponential
    /// gaps, seeded), as results arriving from many workers would make them; answers how many. The moments
    /// are kept by a thread of its own with Thread.Sleep, not by Task.Delay: .NET timers share one timer queue
    /// with the pulling agents' poll timers, and publishing on that queue's ticks fell right after a poll
    /// (a 4 ms poll showed a 4 ms median queue wait, not the 2 ms that random arrivals see).
    /// </summary>
    public Task<int> PacedAsync(double perSecond, TimeSpan window)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pacer = new Thread(() =>
        {
            try
            {
                var random = new Random(3);
                var clock = Stopwatch.StartNew();
                var due = 0.0;
                var publishing = new List<Task>();
                while (true)
                {
                    due += -Math.Log(1 - random.NextDouble()) / perSecond;
                    if (due >= window.TotalSeconds) break;
                    while (clock.Elapsed.TotalSeconds < due) Thread.Sleep(1);
                    // Not awaited one by one: a slow enqueue must not hold back the next arrival.
                    publishing.Add(PublishAsync());
                }
                Task.WhenAll(publishing).ContinueWith(t =>
                {
                    if (t.Exception is { } error) done.TrySetException(error.InnerExceptions);
                    else done.TrySetResult(publishing.Count);
                }, TaskScheduler.Default);
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        })
        { IsBackground = true, Name = "row3 pacer" };
        pacer.Start();
        return done.Task;
    }

    /// <summary>
    /// As fast as the gateway delivers, with at most <paramref name="maxInFlight"/> published but not yet
    /// received by a worker (an unbounded publisher would only measure a growing queue); answers how many.
    /// </summary>
    public async Task<int> SaturatedAsync(int maxInFlight, int publishers, TimeSpan window)
    {
        var clock = Stopwatch.StartNew();
        var sent = 0;
        var delivered = fleet.DirectDelivered;
        await Task.WhenAll(Enumerable.Range(0, publishers).Select(async _ =>
        {
            while (clock.Elapsed < window)
            {
                if (Volatile.Read(ref sent) - (fleet.DirectDelivered - delivered) >= maxInFlight)
                {
                    await Task.Delay(1);
                    continue;
                }
                Interlocked.Increment(ref sent);
                await PublishAsync();
            }
        }));
        return sent;
    }
}
