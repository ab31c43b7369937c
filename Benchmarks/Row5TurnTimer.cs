using System.Collections.Concurrent;
using System.Diagnostics;

namespace Huginn.Benchmarks;

/// <summary>
/// Times the turns of the routing grains on the silo while switched on: from the moment a call's turn starts to its
/// completion, so that a decision's time can be split into the grains' own work and the waiting around it.
/// </summary>
public sealed class Row5TurnTimer : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<double>> Turns = new();
    private static volatile bool _on;

    public static void Start()
    {
        Turns.Clear();
        _on = true;
    }

    public static IReadOnlyDictionary<string, List<double>> Stop()
    {
        _on = false;
        return Turns.ToDictionary(t => t.Key, t => t.Value.ToList());
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (!_on || context.MethodName is not ("RouteAsync" or "TryReserveAsync" or "UpsertAsync"))
        {
            await context.Invoke();
            return;
        }
        var started = Stopwatch.GetTimestamp();
        await context.Invoke();
        Turns.GetOrAdd(context.MethodName, _ => new()).Enqueue(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
    }
}
