using System.Security.Cryptography;
using Huginn.Blobs;
using Microsoft.Extensions.Time.Testing;

namespace Huginn.Tests.Blobs;

/// <summary>
/// What every blob store promises, run against each of them (the classes below). Time is a fixed clock that
/// the tests move, so grace periods are judged to the second.
/// </summary>
public abstract class BlobStoreContract : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    protected static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    protected FakeTimeProvider Clock { get; } = new(T0);

    /// <summary>A store of its own for this test: at most <paramref name="maxBlobBytes"/> a blob, <paramref name="quotaBytes"/> in all.</summary>
    protected abstract Task<IBlobStore> OpenAsync(long maxBlobBytes = 8 << 20, long quotaBytes = 64 << 20);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    protected static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    protected static string IdOf(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task Blob_is_stored_under_its_sha256_and_read_back_byte_for_byte()
    {
        var store = await OpenAsync();
        var bytes = RandomBytes(10_000, 1);

        var put = await store.PutAsync(bytes);

        Assert.Equal(new BlobPutResult(BlobPutOutcome.Stored, IdOf(bytes), 10_000), put);
        Assert.Equal(bytes, await store.ReadAllBytesAsync(put.BlobId!));
        Assert.Equal(10_000, await store.GetLengthAsync(put.BlobId!));
    }

    [Fact]
    public async Task Absent_blob_reads_as_null()
    {
        var store = await OpenAsync();
        var absent = IdOf([1, 2, 3]);

        Assert.Null(await store.OpenReadAsync(absent));
        Assert.Null(await store.ReadAllBytesAsync(absent));
        Assert.Null(await store.GetLengthAsync(absent));
    }

    [Fact]
    public async Task A_blob_id_that_is_not_a_sha256_is_refused()
    {
        var store = await OpenAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => store.OpenReadAsync("../../etc/passwd"));
        await Assert.ThrowsAsync<ArgumentException>(() => store.AddReferenceAsync(new string('A', 64), "job:1"));
    }

    [Fact]
    public async Task Storing_the_same_bytes_again_is_harmless()
    {
        var store = await OpenAsync();
        var bytes = RandomBytes(5_000, 2);

        var first = await store.PutAsync(bytes);
        var second = await store.PutAsync(bytes, IdOf(bytes));

        Assert.Equal(BlobPutOutcome.Stored, first.Outcome);
        Assert.Equal(new BlobPutResult(BlobPutOutcome.AlreadyStored, IdOf(bytes), 5_000), second);
        Assert.Equal(bytes, await store.ReadAllBytesAsync(IdOf(bytes)));
    }

    [Fact]
    public async Task Bytes_that_do_not_hash_to_the_expected_id_are_refused_and_not_stored()
    {
        var store = await OpenAsync();
        var bytes = RandomBytes(3_000, 3);
        var claimed = IdOf(RandomBytes(3_000, 4));

        var put = await store.PutAsync(bytes, claimed);

        Assert.Equal(new BlobPutResult(BlobPutOutcome.DigestMismatch, IdOf(bytes), 3_000), put);
        Assert.Null(await store.GetLengthAsync(IdOf(bytes)));
        Assert.Null(await store.GetLengthAsync(claimed));
    }

    [Fact]
    public async Task Blob_over_the_limit_is_refused_and_one_of_exactly_the_limit_is_stored()
    {
        var store = await OpenAsync(maxBlobBytes: 4_096);
        var over = RandomBytes(4_097, 5);
        var exact = RandomBytes(4_096, 6);

        var refused = await store.PutAsync(over);
        var stored = await store.PutAsync(exact);

        Assert.Equal(BlobPutOutcome.TooLarge, refused.Outcome);
        Assert.Null(refused.BlobId);
        Assert.Null(await store.GetLengthAsync(IdOf(over)));
        Assert.Equal(new BlobPutResult(BlobPutOutcome.Stored, IdOf(exact), 4_096), stored);
        Assert.Equal(4_096, store.MaxBlobBytes);
    }

    [Fact]
    public async Task Empty_content_is_refused()
    {
        var store = await OpenAsync();

        Assert.Equal(new BlobPutResult(BlobPutOutcome.Empty, null, 0), await store.PutAsync(ReadOnlyMemory<byte>.Empty));
    }

    [Fact]
    public async Task Blob_that_does_not_fit_the_quota_is_refused_until_room_is_made()
    {
        var store = await OpenAsync(quotaBytes: 5_000);
        var first = RandomBytes(3_000, 7);
        var second = RandomBytes(3_000, 8);

        Assert.Equal(BlobPutOutcome.Stored, (await store.PutAsync(first)).Outcome);
        Assert.Equal(new BlobPutResult(BlobPutOutcome.QuotaExceeded, IdOf(second), 3_000), await store.PutAsync(second));
        Assert.Null(await store.GetLengthAsync(IdOf(second)));
        // Bytes already there take no more room.
        Assert.Equal(BlobPutOutcome.AlreadyStored, (await store.PutAsync(first)).Outcome);
        Assert.Equal(5_000, store.QuotaBytes);

        Assert.Equal(1, await store.CollectAsync(T0 + Grace + TimeSpan.FromSeconds(1), Grace));
        Assert.Equal(BlobPutOutcome.Stored, (await store.PutAsync(second)).Outcome);
    }

    [Fact]
    public async Task Blob_of_several_chunks_streams_back_in_small_reads_and_seeks_across_a_chunk_boundary()
    {
        var store = await OpenAsync();
        var bytes = RandomBytes(5 * (1 << 20) / 2 + 123, 9);
        var blobId = (await store.PutAsync(new MemoryStream(bytes))).BlobId!;

        await using var stream = (await store.OpenReadAsync(blobId))!;
        Assert.Equal(bytes.Length, stream.Length);
        var read = new MemoryStream();
        var buffer = new byte[10_007];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0) read.Write(buffer, 0, n);
        Assert.Equal(bytes, read.ToArray());

        stream.Position = (1 << 20) - 10;
        var across = new byte[20];
        await stream.ReadExactlyAsync(across);
        Assert.Equal(bytes.AsSpan((1 << 20) - 10, 20).ToArray(), across);
    }

    [Fact]
    public async Task Unreferenced_blob_is_collected_only_once_its_grace_has_passed()
    {
        var store = await OpenAsync();
        var blobId = (await store.PutAsync(RandomBytes(1_000, 10))).BlobId!;

        Assert.Equal(0, await store.CollectAsync(T0 + Grace, Grace));
        Assert.Equal(1_000, await store.GetLengthAsync(blobId));
        Assert.Equal(1, await store.CollectAsync(T0 + Grace + TimeSpan.FromSeconds(1), Grace));
        Assert.Null(await store.GetLengthAsync(blobId));
        Assert.Equal(0, await store.CollectAsync(T0 + Grace + TimeSpan.FromSeconds(2), Grace));
    }

    [Fact]
    public async Task Referenced_blob_is_kept_until_its_last_holder_lets_go_and_then_for_the_grace()
    {
        var store = await OpenAsync();
        var blobId = (await store.PutAsync(RandomBytes(1_000, 11))).BlobId!;
        await store.AddReferenceAsync(blobId, "job:1");
        await store.AddReferenceAsync(blobId, "account:a");

        Assert.Equal(0, await store.CollectAsync(T0 + TimeSpan.FromDays(30), Grace));
        Clock.SetUtcNow(T0 + TimeSpan.FromHours(3));
        await store.RemoveHolderAsync("job:1");
        Assert.Equal(0, await store.CollectAsync(T0 + TimeSpan.FromDays(30), Grace));

        Clock.SetUtcNow(T0 + TimeSpan.FromHours(5));
        await store.RemoveHolderAsync("account:a");
        Assert.Equal(0, await store.CollectAsync(T0 + TimeSpan.FromHours(5) + Grace, Grace));
        Assert.Equal(1, await store.CollectAsync(T0 + TimeSpan.FromHours(5) + Grace + TimeSpan.FromSeconds(1), Grace));
        Assert.Null(await store.GetLengthAsync(blobId));
    }

    [Fact]
    public async Task A_blob_put_held_is_held_from_the_start_even_when_it_was_stored_unheld_before()
    {
        var store = await OpenAsync();
        var bytes = RandomBytes(1_000, 19);
        var unheld = await store.PutAsync(bytes);

        var held = await store.PutHeldAsync(new MemoryStream(bytes), "job:held");
        var fresh = await store.PutHeldAsync(new MemoryStream(RandomBytes(2_000, 20)), "job:held");

        Assert.Equal((BlobPutOutcome.AlreadyStored, unheld.BlobId), (held.Outcome, held.BlobId));
        Assert.Equal(BlobPutOutcome.Stored, fresh.Outcome);
        Assert.Equal(0, await store.CollectAsync(T0 + TimeSpan.FromDays(30), Grace));
        await store.RemoveHolderAsync("job:held");
        Assert.Equal(2, await store.CollectAsync(T0 + TimeSpan.FromDays(30), Grace));
    }

    [Fact]
    public async Task Many_small_results_put_held_at_once_are_all_stored_whole_and_held()
    {
        var store = await OpenAsync();
        // 40 distinct results and each of the first 10 twice more, all at once (a pool settling many shards).
        var contents = Enumerable.Range(0, 40).Select(i => RandomBytes(100 + i * 37, 100 + i)).ToList();
        var puts = contents.Concat(contents.Take(10)).Concat(contents.Take(10))
            .Select(bytes => store.PutHeldAsync(new MemoryStream(bytes), "job:many")).ToList();

        var results = await Task.WhenAll(puts);

        Assert.All(results, r => Assert.True(r.Succeeded, r.Outcome.ToString()));
        Assert.Equal(40, results.Count(r => r.Outcome == BlobPutOutcome.Stored));
        foreach (var bytes in contents) Assert.Equal(bytes, await store.ReadAllBytesAsync(IdOf(bytes)));
        Assert.Equal(0, await store.CollectAsync(T0 + TimeSpan.FromDays(30), Grace));
        await store.RemoveHolderAsync("job:many");
        Assert.Equal(40, await store.CollectAsync(T0 + TimeSpan.FromDays(30), Grace));
    }

    [Fact]
    public async Task Adding_a_reference_twice_and_removing_an_unknown_holder_are_harmless()
    {
        var store = await OpenAsync();
        var blobId = (await store.PutAsync(RandomBytes(1_000, 12))).BlobId!;

        await store.AddReferenceAsync(blobId, "job:1");
        await store.AddReferenceAsync(blobId, "job:1");
        await store.RemoveHolderAsync("job:nobody");
        Assert.Equal(0, await store.CollectAsync(T0 + TimeSpan.FromDays(1), Grace));

        // One removal drops the reference however often it was added.
        await store.RemoveHolderAsync("job:1");
        Assert.Equal(1, await store.CollectAsync(T0 + Grace + TimeSpan.FromSeconds(1), Grace));
    }

    [Fact]
    public async Task Uploading_an_unreferenced_blob_again_restarts_its_grace()
    {
        // A client re-uploads a dataset just before submitting the job that will reference it.
        var store = await OpenAsync();
        var bytes = RandomBytes(1_000, 13);
        await store.PutAsync(bytes);

        Clock.SetUtcNow(T0 + TimeSpan.FromMinutes(50));
        Assert.Equal(BlobPutOutcome.AlreadyStored, (await store.PutAsync(bytes)).Outcome);

        Assert.Equal(0, await store.CollectAsync(T0 + Grace + TimeSpan.FromMinutes(30), Grace));
        Assert.Equal(1, await store.CollectAsync(T0 + TimeSpan.FromMinutes(50) + Grace + TimeSpan.FromSeconds(1), Grace));
    }

    [Fact]
    public async Task A_reference_taken_before_the_upload_protects_the_blob_once_stored()
    {
        var store = await OpenAsync();
        var bytes = RandomBytes(1_000, 14);

        await store.AddReferenceAsync(IdOf(bytes), "job:early");
        await store.PutAsync(bytes);

        Assert.Equal(0, await store.CollectAsync(T0 + TimeSpan.FromDays(1), Grace));
        Assert.Equal(1_000, await store.GetLengthAsync(IdOf(bytes)));
    }

    [Fact]
    public async Task Holders_keep_only_their_own_blobs()
    {
        var store = await OpenAsync();
        var kept = (await store.PutAsync(RandomBytes(1_000, 15))).BlobId!;
        var dropped = (await store.PutAsync(RandomBytes(1_000, 16))).BlobId!;
        await store.AddReferenceAsync(kept, "job:1");
        await store.AddReferenceAsync(dropped, "job:2");

        await store.RemoveHolderAsync("job:2");

        Assert.Equal(1, await store.CollectAsync(T0 + TimeSpan.FromDays(1), Grace));
        Assert.NotNull(await store.GetLengthAsync(kept));
        Assert.Null(await store.GetLengthAsync(dropped));
    }
}

public sealed class MemoryBlobStoreTests : BlobStoreContract
{
    protected override Task<IBlobStore> OpenAsync(long maxBlobBytes = 8 << 20, long quotaBytes = 64 << 20) =>
        Task.FromResult<IBlobStore>(new MemoryBlobStore(maxBlobBytes, quotaBytes, Clock));
}
