using System.Diagnostics;

namespace Huginn.Tests.Pool;

/// <summary>Waits for something the pool does asynchronously, failing with what did not happen.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var last = await probe();
            if (done(last)) return last;
            if (clock.Elapsed > limit) throw new TimeoutException($"{what} did not happen within {limit.TotalSeconds:F0}s; last seen: {last}");
            await Task.Delay(20);
        }
    }
}
