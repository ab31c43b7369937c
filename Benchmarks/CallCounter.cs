using System.Collections.Concurrent;

namespace Huginn.Benchmarks;

/// <summary>Counts every call that enters a grain on the silo, by interface and method, while switched on.</summary>
public sealed class CallCounter : IIncomingGrainCallFilter
{
    private static readonly ConcurrentDictionary<string, long> Counts = new();
    private static volatile bool _on;

    public static void Start()
    {
        Counts.Clear();
        _on = true;
    }

    public static IReadOnlyDictionary<string, long> Stop()
    {
        _on = false;
        return new Dictionary<string, long>(Counts);
    }

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (_on)
        {
            var name = $"{context.InterfaceName}.{context.MethodName}";
            Counts.AddOrUpdate(name, 1, (_, n) => n + 1);
        }
        return context.Invoke();
    }
}
