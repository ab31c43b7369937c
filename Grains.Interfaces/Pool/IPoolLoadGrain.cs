namespace Huginn.Grains.Interfaces.Pool;

/// <summary>
/// The pool's queue, fed by jobs at submission, at each round and at their end (never per shard).
/// Key: <see cref="Key"/>.
/// </summary>
[Alias("huginn.IPoolLoadGrain")]
public interface IPoolLoadGrain : IGrainWithStringKey
{
    public const string Key = "pool";

    /// <summary>Replaces one job's remaining work; an inactive job leaves the queue.</summary>
    [Alias("report")]
    Task ReportAsync(JobLoad load);

    [Alias("get")]
    Task<PoolLoad> GetAsync();
}
