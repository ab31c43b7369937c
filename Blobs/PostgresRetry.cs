using Npgsql;

namespace Huginn.Blobs;

/// <summary>
/// Runs a database step again when the server cut the connection or was briefly away (a restart, a failover):
/// the pooled connections died with it, so the pool's idle ones are dropped before each new try. Every step of
/// the store can be repeated: a put whose commit was lost finds its blob stored the second time.
/// </summary>
internal static class PostgresRetry
{
    /// <summary>About 12 s in all: long enough for a restart of the server, short of a grain call's timeout.</summary>
    private static readonly TimeSpan[] Delays =
        [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500),
         TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(4)];

    public static async Task<T> RunAsync<T>(NpgsqlDataSource dataSource, Func<CancellationToken, Task<T>> step,
        CancellationToken cancellationToken, Func<bool>? canRetry = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await step(cancellationToken);
            }
            catch (Exception e) when (IsTransient(e) && attempt < Delays.Length && (canRetry?.Invoke() ?? true))
            {
                dataSource.Clear();
                await Task.Delay(Delays[attempt], cancellationToken);
            }
        }
    }

    public static Task RunAsync(NpgsqlDataSource dataSource, Func<CancellationToken, Task> step, CancellationToken cancellationToken) =>
        RunAsync(dataSource, async ct =>
        {
            await step(ct);
            return true;
        }, cancellationToken);

    /// <summary>
    /// The connection broke or could not be made (Npgsql's own judgement), or the server is shutting down or starting
    /// (admin_shutdown, crash_shutdown, cannot_connect_now), which Npgsql does not count as transient.
    /// </summary>
    private static bool IsTransient(Exception e) =>
        e is PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow }
        || e is NpgsqlException { IsTransient: true };
}
