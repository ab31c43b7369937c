using System.Collections.Concurrent;
using System.Diagnostics;

namespace Huginn.Benchmarks;

/// <summary>
/// Counts every call that enters a grain on the silo, by interface and method, while switched on, and the time
/// each spent inside its grain (the turn plus what it awaited): where a shard's latency goes.
/// </summary>
public sealed class CallCounter : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, long> Counts = new();
    private static readonly ConcurrentDictionary<string, long> Ticks = new();
    private static volatile bool _on;

    public static void Start()
    {
        Counts.Clear();
        Ticks.Clear();
        _on = true;
    }

    public static IReadOnlyDictionary<string, long> Stop()
    {
        _on = false;
        return new Dictionary<string, long>(Counts);
    }

    /// <summary>Mean milliseconds inside the grain per call, by method, for the last measurement.</summary>
    public static IReadOnlyDictionary<string, double> MeanMilliseconds() =>
        Ticks.ToDictionary(t => t.Key, t => t.Value * 1000.0 / Stopwatch.Frequency / Math.Max(1, Counts.GetValueOrDefault(t.Key)));

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (!_on)
        {
            await context.Invoke();
            return;
        }
        var name = $"{context.InterfaceName}.{context.MethodName}";
        Counts.AddOrUpdate(name, 1, (_, n) => n + 1);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await context.Invoke();
        }
        finally
        {
            Ticks.AddOrUpdate(name, Stopwatch.GetTimestamp() - started, (_, t) => t + Stopwatch.GetTimestamp() - started);
        }
    }
}
