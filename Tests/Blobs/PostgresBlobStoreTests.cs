using System.Globalization;
using Huginn.Blobs;
using Huginn.Silo.Storage;
using Huginn.Tests.Durable;

namespace Huginn.Tests.Blobs;

/// <summary>The contract on a real PostgreSQL database of its own, migrated like a silo's.</summary>
[Trait("Category", "Postgres")]
public sealed class PostgresBlobStoreTests : BlobStoreContract
{
    private TestDatabase _database = null!;
    private readonly List<PostgresBlobStore> _stores = [];

    public override async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        await new PostgresMigrator(_database.ConnectionString).MigrateAsync();
    }

    public override async Task DisposeAsync()
    {
        foreach (var store in _stores) await store.DisposeAsync();
        await _database.DisposeAsync();
    }

    protected override Task<IBlobStore> OpenAsync(long maxBlobBytes = 8 << 20, long quotaBytes = 64 << 20)
    {
        var store = new PostgresBlobStore(_database.ConnectionString, maxBlobBytes, quotaBytes, time: Clock);
        _stores.Add(store);
        return Task.FromResult<IBlobStore>(store);
    }

    private async Task<int> CountAsync(string table) =>
        int.Parse((await _database.QueryAsync($"SELECT count(*) FROM {table}"))[0], CultureInfo.InvariantCulture);

    [Fact]
    public async Task Blob_is_stored_in_chunks_of_one_MiB_and_a_refused_or_repeated_put_leaves_no_chunk()
    {
        var store = await OpenAsync(maxBlobBytes: 3 << 20);
        var bytes = RandomBytes((5 << 20) / 2, 30);

        await store.PutAsync(bytes);
        await store.PutAsync(bytes);
        await store.PutAsync(RandomBytes((3 << 20) + 1, 31));
        await store.PutAsync(bytes, IdOf(RandomBytes(10, 32)));

        Assert.Equal(["0:1048576", "1:1048576", "2:524288"],
            await _database.QueryAsync("SELECT seq || ':' || length(data) FROM huginn_blob_chunk ORDER BY seq"));
        Assert.Equal(1, await CountAsync("huginn_blob"));
    }

    [Fact]
    public async Task Collection_deletes_the_chunks_with_the_blob()
    {
        var store = await OpenAsync();
        await store.PutAsync(RandomBytes((3 << 20) / 2, 33));

        Assert.Equal(1, await store.CollectAsync(T0 + Grace + TimeSpan.FromSeconds(1), Grace));

        Assert.Equal(0, await CountAsync("huginn_blob_chunk"));
        Assert.Equal(0, await CountAsync("huginn_blob"));
    }

    [Fact]
    public async Task Two_stores_on_one_database_share_blobs_and_references()
    {
        var silo = await OpenAsync();
        var api = await OpenAsync();
        var uploaded = await api.PutAsync(RandomBytes(2_000, 34));

        await api.AddReferenceAsync(uploaded.BlobId!, "account:a");
        Assert.Equal(0, await silo.CollectAsync(T0 + TimeSpan.FromDays(1), Grace));
        await silo.RemoveHolderAsync("account:a");
        Assert.Equal(1, await silo.CollectAsync(T0 + TimeSpan.FromDays(1), Grace));
        Assert.Null(await api.GetLengthAsync(uploaded.BlobId!));
    }
}
