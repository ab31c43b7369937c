namespace Huginn.Workloads;

/// <summary>
/// The chunks of a dataset that a shard's slice lies in, and where they sit: chunk <see cref="FirstChunk"/> + k is
/// <see cref="ChunkIds"/>[k] and starts at byte (FirstChunk + k)·<see cref="ChunkBytes"/> of the dataset. A device
/// fetches these and no others (and may read no others: its lease names them), caching each by its id.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.shard-chunks")]
public sealed record ShardChunks(
    [property: Id(0)] long ChunkBytes,
    [property: Id(1)] int FirstChunk,
    [property: Id(2)] string[] ChunkIds)
{
    /// <summary>The dataset byte at which the first of these chunks starts.</summary>
    public long StartByte => FirstChunk * ChunkBytes;
}

/// <summary>A dataset's chunk list as a job keeps it (ids only), and the chunks each shard needs.</summary>
[GenerateSerializer, Immutable, Alias("huginn.dataset-chunk-list")]
public sealed record DatasetChunkList(
    [property: Id(0)] long ChunkBytes,
    [property: Id(1)] string[] ChunkIds,
    [property: Id(2)] long TotalBytes)
{
    /// <summary>The chunks that hold bytes [start, end) of the dataset.</summary>
    public ShardChunks Covering(long start, long end)
    {
        if (start < 0 || end > TotalBytes || end <= start)
            throw new ArgumentOutOfRangeException(nameof(end), $"bytes [{start}, {end}) are not inside a dataset of {TotalBytes} bytes");
        var first = (int)(start / ChunkBytes);
        var last = (int)((end - 1) / ChunkBytes);
        return new ShardChunks(ChunkBytes, first, ChunkIds[first..(last + 1)]);
    }

    /// <summary>The chunks a shard of <paramref name="spec"/> reads (its samples, plus the next token for a token target).</summary>
    public ShardChunks ForShard(JobSpec spec, ShardPlan shard)
    {
        var layout = DatasetLayout.For(spec.Dataset.Format, spec.Model!, readTargets: spec.Kind == WorkloadKind.Train);
        var (start, end) = layout.ByteRange(shard.SampleOffset, shard.SampleCount);
        return Covering(start, end);
    }
}
