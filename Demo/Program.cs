using Huginn.Demo;

// The main job: a local pool on embedded defaults, three workers (one faulty), one real training job.
using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(10));
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };

await using var pool = await LocalPool.StartAsync();
try
{
    return await new MainJob(pool, pool.Grains, Console.Out).RunAsync(stop.Token);
}
catch (Exception ex) when (ex is TimeoutException or HttpRequestException or OperationCanceledException)
{
    Console.Error.WriteLine($"main job failed: {ex.Message}");
    return 1;
}
