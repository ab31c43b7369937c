using Huginn.Workloads;

namespace Huginn.Tests.Workloads;

/// <summary>The streamed arithmetic the coordinator applies to results in the blob store agrees with the in-memory one.</summary>
public sealed class F32StreamsTests
{
    private static MemoryStream Stream(float[] values) => new(WeightsFormat.ToBytes(values));

    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
    }

    [Fact]
    public async Task Streamed_relative_L2_is_the_in_memory_one_across_many_pieces()
    {
        var a = Values(700_000, 1); // 2.8 MB: three pieces of 1 MiB
        var b = a.Select((v, i) => i % 3 == 0 ? v * 1.001f : v).ToArray();

        var streamed = await F32Streams.RelativeL2Async(Stream(a), Stream(b));

        Assert.Equal(TensorComparison.RelativeL2(a, b), streamed, 12);
        Assert.Equal(0, await F32Streams.RelativeL2Async(Stream(a), Stream(a)));
    }

    [Fact]
    public async Task Different_lengths_or_non_finite_values_are_infinitely_far()
    {
        Assert.Equal(double.PositiveInfinity, await F32Streams.RelativeL2Async(Stream([1f, 2f]), Stream([1f, 2f, 3f])));
        Assert.Equal(double.PositiveInfinity, await F32Streams.RelativeL2Async(Stream([1f, float.NaN]), Stream([1f, 2f])));
        Assert.Equal(double.PositiveInfinity, await F32Streams.RelativeL2Async(new MemoryStream([1, 2, 3, 4, 5]), new MemoryStream([1, 2, 3, 4, 5])));
    }

    [Fact]
    public async Task A_finite_tensor_has_exactly_its_values_and_none_is_NaN_or_infinite()
    {
        Assert.True(await F32Streams.IsFiniteTensorAsync(Stream(Values(300_000, 2)), 300_000));
        Assert.False(await F32Streams.IsFiniteTensorAsync(Stream([1f, float.PositiveInfinity]), 2));
        Assert.False(await F32Streams.IsFiniteTensorAsync(Stream([1f, 2f]), 3));
        Assert.False(await F32Streams.IsFiniteTensorAsync(Stream([1f, 2f, 3f]), 2));
    }

    [Fact]
    public async Task A_float_array_streams_out_as_its_little_endian_bytes_without_a_copy_in_between()
    {
        var values = Values(1_000, 3);
        using var copy = new MemoryStream();

        await F32Streams.AsStream(values).CopyToAsync(copy);

        Assert.Equal(WeightsFormat.ToBytes(values), copy.ToArray());
        Assert.Equal(values, await F32Streams.ReadAllAsync(new MemoryStream(copy.ToArray()), values.Length));
    }
}
