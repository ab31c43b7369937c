using Huginn.Blobs;

namespace Huginn.Tests.Blobs;

public sealed class DirectoryBlobStoreTests : BlobStoreContract
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "huginn-blob-tests", Guid.NewGuid().ToString("N"));

    protected override Task<IBlobStore> OpenAsync(long maxBlobBytes = 8 << 20, long quotaBytes = 64 << 20) =>
        Task.FromResult<IBlobStore>(new DirectoryBlobStore(_folder, maxBlobBytes, quotaBytes, Clock));

    public override Task DisposeAsync()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Blobs_are_files_fanned_out_by_id_prefix_and_no_upload_leaves_a_temp_file()
    {
        var store = await OpenAsync(maxBlobBytes: 1_000);
        var bytes = RandomBytes(1_000, 20);

        await store.PutAsync(bytes);
        await store.PutAsync(RandomBytes(1_001, 21));
        await store.PutAsync(bytes, IdOf(RandomBytes(10, 22)));

        var blobId = IdOf(bytes);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(_folder, "blobs", blobId[..2], blobId)));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_folder, "tmp")));
    }

    [Fact]
    public async Task Two_stores_on_one_folder_share_blobs_and_references()
    {
        // A stand-alone silo and Api on one machine: each opens the folder on its own.
        var silo = await OpenAsync();
        var api = await OpenAsync();
        var bytes = RandomBytes(2_000, 23);

        var uploaded = await api.PutAsync(bytes);
        Assert.Equal(bytes, await silo.ReadAllBytesAsync(uploaded.BlobId!));
        Assert.Equal(BlobPutOutcome.AlreadyStored, (await silo.PutAsync(bytes)).Outcome);

        await api.AddReferenceAsync(uploaded.BlobId!, "account:a");
        Assert.Equal(0, await silo.CollectAsync(T0 + TimeSpan.FromDays(1), Grace));
        await silo.RemoveHolderAsync("account:a");
        Assert.Equal(1, await silo.CollectAsync(T0 + TimeSpan.FromDays(1), Grace));
        Assert.Null(await api.GetLengthAsync(uploaded.BlobId!));
    }

    [Fact]
    public async Task Two_stores_writing_side_by_side_lose_no_reference()
    {
        var first = await OpenAsync();
        var second = await OpenAsync();
        var blobs = Enumerable.Range(0, 24).Select(i => RandomBytes(500, 100 + i)).ToList();

        // Every blob uploaded through both stores at once, and referenced by one holder through either.
        await Task.WhenAll(blobs.SelectMany((bytes, i) => new[]
        {
            first.PutAsync(bytes).ContinueWith(_ => first.AddReferenceAsync(IdOf(bytes), i % 2 == 0 ? "job:shared" : $"job:{i}")).Unwrap(),
            second.PutAsync(bytes).ContinueWith(_ => second.AddReferenceAsync(IdOf(bytes), "job:shared")).Unwrap(),
        }));

        foreach (var bytes in blobs) Assert.Equal(500, await first.GetLengthAsync(IdOf(bytes)));
        Assert.Equal(0, await first.CollectAsync(T0 + TimeSpan.FromDays(1), Grace));
        // Had one store overwritten the other's holder index, some blob would stay referenced.
        await first.RemoveHolderAsync("job:shared");
        foreach (var i in Enumerable.Range(0, blobs.Count).Where(i => i % 2 == 1)) await second.RemoveHolderAsync($"job:{i}");
        Assert.Equal(blobs.Count, await second.CollectAsync(T0 + TimeSpan.FromDays(1), Grace));
    }
}
