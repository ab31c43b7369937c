namespace Huginn.Workloads;

/// <summary>What a device needs to run a job's shards: memory, one of the runtimes, a device kind; and the work per shard.</summary>
[GenerateSerializer, Immutable, Alias("huginn.shard-requirement")]
public sealed record ShardRequirement(
    [property: Id(0)] long MinMemoryMb,
    [property: Id(1)] string[] Runtimes,
    [property: Id(2)] DeviceKind[] AllowedKinds,
    [property: Id(3)] long Flops)
{
    /// <summary>A browser tab gets no shard that needs more than this: browsers cap a tab's memory near here.</summary>
    public const long BrowserMaxMemoryMb = 1024;

    /// <summary>A requirement nothing can meet, for object-initializer syntax.</summary>
    public ShardRequirement() : this(0, [], [], 0)
    {
    }

    /// <summary>
    /// Whether a device of this kind, with this much working memory (VRAM on a GPU) and these runtimes, can run the
    /// shards: an allowed kind, enough memory, any one runtime in common (case-insensitive), and for a browser a
    /// requirement of at most <see cref="BrowserMaxMemoryMb"/>.
    /// </summary>
    /// <remarks>Called for every device a routing partition scans: plain loops, nothing allocated.</remarks>
    public bool Allows(DeviceKind kind, long memoryMb, IReadOnlyList<string> runtimes)
    {
        ArgumentNullException.ThrowIfNull(runtimes);
        if (Array.IndexOf(AllowedKinds, kind) < 0) return false;
        if (kind == DeviceKind.Browser && MinMemoryMb > BrowserMaxMemoryMb) return false;
        if (memoryMb < MinMemoryMb) return false;
        for (var i = 0; i < runtimes.Count; i++)
        {
            foreach (var runtime in Runtimes)
            {
                if (string.Equals(runtime, runtimes[i], StringComparison.OrdinalIgnoreCase)) return true;
            }
        }
        return false;
    }
}
