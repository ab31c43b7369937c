using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Huginn.Blobs;

/// <summary>
/// Deletes unreferenced blobs every <c>Huginn:Blobs:CollectInterval</c> once their grace period
/// (<c>Huginn:Blobs:CollectGrace</c>) has passed. Runs in each silo; two collectors on one store are harmless
/// (each deletion is decided under the store's lock or row lock), and the bytes never go through a grain.
/// </summary>
public sealed partial class BlobCollector(IBlobStore store, IOptions<BlobStoreOptions> options, ILogger<BlobCollector> logger, TimeProvider? time = null)
    : BackgroundService
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.CollectInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var collected = await store.CollectAsync(_time.GetUtcNow(), settings.CollectGrace, stoppingToken);
                    if (collected > 0) LogCollected(collected, settings.CollectGrace);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The next tick tries again: a database or disk hiccup must not stop collection for good.
                    LogFailed(e);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Collected {Count} unreferenced blob(s) older than {Grace}")]
    private partial void LogCollected(int count, TimeSpan grace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Blob collection failed; retrying at the next interval")]
    private partial void LogFailed(Exception exception);
}
