using System.Runtime;

namespace Huginn.Worker.Agent;

/// <summary>
/// Gives a large shard's slice back to the system as soon as the shard is done. A slice is one or two large arrays
/// (tens of MB); the GC collects the large-object heap only with generation 2, which a worker that allocates little
/// else reaches rarely, so without this the slices of several shards stayed resident: row 8 measured a peak of
/// 735 MB for an MLP 784-512-512 on 45 MB slices, 174 MB idle (docs/BENCHMARKS.md). A blocking collection of a
/// heap this small takes milliseconds, against shards of seconds; small slices are left to the GC's own pace.
/// </summary>
internal static class ShardGarbage
{
    /// <summary>Slices at least this large are collected at once.</summary>
    private const long LargeSliceBytes = 8L << 20;

    /// <summary>Called once the finished shard's slice (of <paramref name="sliceBytes"/>) is unreachable.</summary>
    public static void CollectAfter(long sliceBytes)
    {
        if (sliceBytes < LargeSliceBytes) return;
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }
}
