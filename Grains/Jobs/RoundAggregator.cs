using Huginn.Blobs;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Workloads;

namespace Huginn.Grains.Jobs;

/// <summary>
/// Sums a training round's accepted weight deltas as they are accepted (federated averaging:
/// W' = W + Σ samplesᵢ·deltaᵢ / Σ samplesᵢ), outside the job's state and off its turn: each delta is streamed from
/// the blob store and added on the thread pool, one after the other, while the job goes on settling and leasing.
/// The sums live in this activation's memory only (one double per parameter: two model copies); the job's state
/// keeps the accepted results' blob ids, so after a crash <see cref="Replay"/> re-derives the sum from them (the
/// same deltas in shard order: the result differs from the lost one in the last bits at most). At the round's end
/// <see cref="CompleteAsync"/> reads the round's weights, applies the average in place and stores the next weights
/// as a blob: the checkpoint. Three model copies are in memory at the round's end (sums, weights); the next round's
/// aggregator takes over this one's sums (<see cref="Sums"/>, cleared on the thread pool) instead of allocating two
/// more model copies per round and leaving the old ones to the collector.
/// </summary>
public sealed class RoundAggregator
{
    private readonly IBlobStore blobs;
    private readonly int parameters;
    private readonly double[] _sums;
    private Task _tail;

    /// <param name="reuse">A finished round's <see cref="Sums"/> to clear and use again; null (or another size): a new array.</param>
    public RoundAggregator(IBlobStore blobs, int round, int parameters, double[]? reuse = null)
    {
        (this.blobs, this.parameters, Round) = (blobs, parameters, round);
        if (reuse is not null && reuse.Length == parameters)
        {
            _sums = reuse;
            _tail = Task.Run(() => Array.Clear(reuse));
        }
        else
        {
            _sums = new double[parameters];
            _tail = Task.CompletedTask;
        }
    }

    public int Round { get; }

    /// <summary>The sums' array, for the next round's aggregator once <see cref="CompleteAsync"/> has finished.</summary>
    public double[] Sums => _sums;

    public long TotalSamples { get; private set; }

    /// <summary>Queues one accepted delta; it is added after those queued before it.</summary>
    public void Add(ResultRef result, long samples)
    {
        TotalSamples = checked(TotalSamples + samples);
        var previous = _tail;
        _tail = Task.Run(async () =>
        {
            await previous;
            await using var delta = await blobs.OpenReadAsync(result.BlobId)
                ?? throw new InvalidDataException($"the accepted result {result.BlobId} is no longer in the blob store");
            if (!await F32Streams.AddScaledAsync(delta, _sums, samples))
                throw new InvalidDataException($"the accepted result {result.BlobId} does not hold {parameters} float32 values");
        });
    }

    /// <summary>An aggregator for a round whose accepted results are known (after the activation was lost).</summary>
    public static RoundAggregator Replay(IBlobStore blobs, int round, int parameters, IEnumerable<(ResultRef Result, long Samples)> accepted,
        double[]? reuse = null)
    {
        var aggregator = new RoundAggregator(blobs, round, parameters, reuse);
        foreach (var (result, samples) in accepted) aggregator.Add(result, samples);
        return aggregator;
    }

    /// <summary>
    /// Waits for every queued delta, then stores W + Σ/N as the next weights and returns their blob id (the round's
    /// weights unchanged when nothing was accepted). Throws <see cref="InvalidDataException"/> when a delta or the
    /// weights could not be read.
    /// </summary>
    public Task<string> CompleteAsync(string weightsBlobId) => Task.Run(async () =>
    {
        await _tail;
        if (TotalSamples == 0) return weightsBlobId;
        float[] weights;
        await using (var stream = await blobs.OpenReadAsync(weightsBlobId)
            ?? throw new InvalidDataException($"the round's weights {weightsBlobId} are no longer in the blob store"))
        {
            weights = await F32Streams.ReadAllAsync(stream, parameters);
        }
        // In place: the next weights replace the round's in the same array (the same arithmetic as FederatedAverage).
        for (var i = 0; i < weights.Length; i++) weights[i] = (float)(weights[i] + _sums[i] / TotalSamples);
        await using var next = F32Streams.AsStream(weights);
        var stored = await blobs.PutAsync(next);
        if (!stored.Succeeded) throw new InvalidDataException($"the next weights could not be stored ({stored.Outcome})");
        return stored.BlobId!;
    });
}
