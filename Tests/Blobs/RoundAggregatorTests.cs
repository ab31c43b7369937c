using Huginn.Blobs;
using Huginn.Grains.Interfaces.Jobs;
using Huginn.Grains.Jobs;
using Huginn.Workloads;

namespace Huginn.Tests.Blobs;

/// <summary>
/// The round's sum of accepted deltas, kept outside the job's state: the same next weights as federated averaging
/// in memory, and the same again when a restarted job re-derives the sum from the accepted results' blobs.
/// </summary>
public sealed class RoundAggregatorTests
{
    private readonly MemoryBlobStore _blobs = new(64L << 20, 1L << 30);

    private async Task<ResultRef> StoreAsync(float[] values, long samples)
    {
        var stored = await _blobs.PutAsync(WeightsFormat.ToBytes(values));
        return new ResultRef(stored.BlobId!, 4L * values.Length, 0.5, samples);
    }

    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
    }

    [Fact]
    public async Task The_next_weights_are_the_federated_average_of_the_accepted_deltas()
    {
        const int parameters = 300_000; // more than one 1 MiB piece of the stream
        var weights = Values(parameters, 1);
        var deltas = new[] { (Values(parameters, 2), 64L), (Values(parameters, 3), 32L), (Values(parameters, 4), 64L) };
        var expected = new FederatedAverage(parameters);
        foreach (var (delta, samples) in deltas) expected.Add(delta, samples);
        var weightsBlob = (await StoreAsync(weights, 0)).BlobId;

        var aggregator = new RoundAggregator(_blobs, round: 0, parameters);
        foreach (var (delta, samples) in deltas) aggregator.Add(await StoreAsync(delta, samples), samples);
        var next = await aggregator.CompleteAsync(weightsBlob);

        Assert.Equal(expected.ApplyTo(weights), WeightsFormat.FromBytes((await _blobs.ReadAllBytesAsync(next))!));
    }

    [Fact]
    public async Task A_restarted_job_re_derives_the_same_sum_from_the_accepted_results()
    {
        const int parameters = 1_000;
        var weightsBlob = (await StoreAsync(Values(parameters, 1), 0)).BlobId;
        var accepted = new List<(ResultRef, long)>();
        for (var i = 0; i < 5; i++) accepted.Add((await StoreAsync(Values(parameters, 10 + i), 16 * (i + 1)), 16L * (i + 1)));

        var live = new RoundAggregator(_blobs, 2, parameters);
        foreach (var (result, samples) in accepted) live.Add(result, samples);
        var replayed = RoundAggregator.Replay(_blobs, 2, parameters, accepted);

        Assert.Equal(await live.CompleteAsync(weightsBlob), await replayed.CompleteAsync(weightsBlob));
    }

    [Fact]
    public async Task The_next_round_reuses_the_last_rounds_sums_and_starts_from_zero()
    {
        const int parameters = 2_000;
        var weightsBlob = (await StoreAsync(Values(parameters, 1), 0)).BlobId;
        var first = new RoundAggregator(_blobs, 0, parameters);
        first.Add(await StoreAsync(Values(parameters, 2), 8), 8);
        var afterFirst = await first.CompleteAsync(weightsBlob);
        var delta = await StoreAsync(Values(parameters, 3), 8);

        var reusing = new RoundAggregator(_blobs, 1, parameters, reuse: first.Sums);
        reusing.Add(delta, 8);
        var fresh = new RoundAggregator(_blobs, 1, parameters);
        fresh.Add(delta, 8);

        Assert.Same(first.Sums, reusing.Sums);
        Assert.Equal(await fresh.CompleteAsync(afterFirst), await reusing.CompleteAsync(afterFirst));
    }

    [Fact]
    public async Task Nothing_accepted_leaves_the_weights_as_they_were()
    {
        var weightsBlob = (await StoreAsync(Values(10, 1), 0)).BlobId;

        Assert.Equal(weightsBlob, await new RoundAggregator(_blobs, 0, 10).CompleteAsync(weightsBlob));
    }

    [Fact]
    public async Task A_delta_that_is_gone_or_of_the_wrong_size_fails_the_round_with_a_reason()
    {
        var weightsBlob = (await StoreAsync(Values(10, 1), 0)).BlobId;
        var wrongSize = new RoundAggregator(_blobs, 0, 10);
        wrongSize.Add(await StoreAsync(Values(11, 2), 8), 8);
        var gone = new RoundAggregator(_blobs, 0, 10);
        gone.Add(new ResultRef(new string('f', 64), 40, 0.5, 8), 8);

        Assert.Contains("does not hold 10 float32 values", (await Assert.ThrowsAsync<InvalidDataException>(() => wrongSize.CompleteAsync(weightsBlob))).Message);
        Assert.Contains("no longer in the blob store", (await Assert.ThrowsAsync<InvalidDataException>(() => gone.CompleteAsync(weightsBlob))).Message);
    }
}
