using System.Net;
using System.Net.Http.Headers;
using Huginn.Blobs;
using Huginn.Demo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Huginn.Tests.Api;

/// <summary>The blob endpoints against a small store: a pool of its own, so that its limit binds nobody else.</summary>
public sealed class BlobStoreApiTests
{
    [Fact]
    public async Task Upload_the_store_has_no_room_for_is_refused_with_507_naming_the_limit_and_uploads_stay_held_by_their_account()
    {
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Blobs:MemoryLimitBytes"] = "5000",
            ["Huginn:Blobs:MaxBlobBytes"] = "4000",
        }).Build();
        await using var pool = await LocalPool.StartAsync(settings);
        using var anonymous = new PoolClient(pool.ApiUrl);
        var account = await anonymous.CreateAccountAsync("uploader", "client");
        using var http = new HttpClient { BaseAddress = pool.ApiUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.ApiKey);
        Task<HttpResponseMessage> UploadAsync(int length, byte seed) =>
            http.PostAsync("v1/blobs", new ByteArrayContent(Enumerable.Range(0, length).Select(i => (byte)(i * seed)).ToArray()));

        using var stored = await UploadAsync(3_000, 3);
        using var full = await UploadAsync(3_000, 5);
        using var tooLarge = await UploadAsync(4_001, 7);

        Assert.Equal(HttpStatusCode.Created, stored.StatusCode);
        Assert.Equal((HttpStatusCode)507, full.StatusCode);
        Assert.Contains("5000 bytes", await full.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("4000 bytes", await tooLarge.Content.ReadAsStringAsync());

        // Held by the account that uploaded it: a collection a year on keeps it.
        var store = (MemoryBlobStore)pool.Services.GetRequiredService<IBlobStore>();
        Assert.Equal(0, await store.CollectAsync(DateTimeOffset.UtcNow + TimeSpan.FromDays(365), TimeSpan.FromHours(1)));
        Assert.Equal(3_000, store.StoredBytes);
    }

    [Fact]
    public async Task Job_whose_results_the_store_could_not_hold_is_refused_at_submission_naming_the_limit()
    {
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Blobs:MaxBlobBytes"] = "4000",
        }).Build();
        await using var pool = await LocalPool.StartAsync(settings);
        using var anonymous = new PoolClient(pool.ApiUrl);
        var client = anonymous.As((await anonymous.CreateAccountAsync("trainer", "client")).ApiKey);

        // 4·256 + 256 + 256·4 + 4 = 2,308 parameters: a 9,232-byte delta per shard.
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.SubmitAsync(Workloads.ExampleSpecs.Train(Workloads.ExampleSpecs.Mlp(4, [256], 4))));

        Assert.StartsWith("400 ", refused.Message);
        Assert.Contains("a shard's result would be 9232 bytes; this pool stores blobs of at most 4000 (Huginn:Blobs:MaxBlobBytes)", refused.Message);
    }
}
