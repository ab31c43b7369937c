using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Huginn.Demo;

namespace Huginn.Tests.Api.Hostile;

/// <summary>
/// Issue 12, findings 8 and 9: blobs are read only by their uploader and by devices whose open lease needs them; jobs
/// are submitted and estimated by client accounts only.
/// </summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class HostileAccessTests(ApiPoolFixture fixture)
{
    private HttpClient Http(string key)
    {
        var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private static string KeyOf(PoolClient client) => client.ApiKey!;

    [Fact]
    public async Task A_blob_is_read_by_its_uploader_and_by_nobody_else_who_learns_its_id()
    {
        using var owner = await fixture.ClientWithHuAsync(1);
        using var stranger = await fixture.ClientWithHuAsync(1);
        var (_, _, deviceToken) = await fixture.DeviceAsync("blob-reader");
        var bytes = Guid.NewGuid().ToByteArray();
        var blobId = await owner.UploadAsync(bytes);

        using var ownerHttp = Http(KeyOf(owner));
        using var strangerHttp = Http(KeyOf(stranger));
        using var deviceHttp = Http(deviceToken);

        Assert.Equal(bytes, await ownerHttp.GetByteArrayAsync($"v1/blobs/{blobId}"));
        // Not found, as for a blob that does not exist: whether a hash is stored is not the stranger's to learn.
        Assert.Equal(HttpStatusCode.NotFound, (await strangerHttp.GetAsync($"v1/blobs/{blobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await deviceHttp.GetAsync($"v1/blobs/{blobId}")).StatusCode);
    }

    [Fact]
    public async Task A_contributor_key_neither_submits_nor_estimates_jobs()
    {
        var (contributor, _, _) = await fixture.DeviceAsync("would-be-client");
        using var http = Http(KeyOf(contributor));
        var spec = EdgeSpecs.Training(rounds: 1, shards: 2);

        var submit = await http.PostAsJsonAsync("v1/jobs", new { spec }, Huginn.Protocol.Frame.Json);
        var estimate = await http.PostAsJsonAsync("v1/estimates", spec, Huginn.Protocol.Frame.Json);

        Assert.Equal(HttpStatusCode.Forbidden, submit.StatusCode);
        Assert.Contains("client accounts", await submit.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, estimate.StatusCode);
    }

    /// <summary>Issue 12, finding 2: "gpu,cpu" was taken as a cpu, memoryMb 2^63−1 and unbounded speed and slots were taken as claimed.</summary>
    [Theory]
    [InlineData("gpu,cpu", 16_384L, 100.0, 1, "capabilities.kind")]
    [InlineData("1", 16_384L, 100.0, 1, "capabilities.kind")]
    [InlineData("cpu", long.MaxValue, 100.0, 1, "capabilities.memoryMb")]
    [InlineData("cpu", 16_384L, 9_999_999.0, 1, "capabilities.gflops")]
    [InlineData("cpu", 16_384L, 100.0, 64, "capabilities.slots")]
    public async Task An_impossible_capability_claim_is_refused_naming_the_field(string kind, long memoryMb, double gflops, int slots, string field)
    {
        var (contributor, _, _) = await fixture.DeviceAsync("claimant");
        using var http = Http(KeyOf(contributor));

        var response = await http.PostAsJsonAsync("v1/devices", new
        {
            name = "claimant-2",
            capabilities = new { kind, gflops, memoryMb, cpuCores = 2, runtimes = new[] { "torch" }, slots },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void A_device_kind_is_one_of_the_api_names_in_any_case_and_nothing_else()
    {
        Assert.Equal(Huginn.Workloads.DeviceKind.Gpu, Huginn.Grains.Interfaces.Devices.HardwareClass.ParseKind("GPU"));
        Assert.Equal(Huginn.Workloads.DeviceKind.Browser, Huginn.Grains.Interfaces.Devices.HardwareClass.ParseKind("browser"));
        Assert.Null(Huginn.Grains.Interfaces.Devices.HardwareClass.ParseKind("gpu,cpu"));
        Assert.Null(Huginn.Grains.Interfaces.Devices.HardwareClass.ParseKind("0"));
        Assert.Null(Huginn.Grains.Interfaces.Devices.HardwareClass.ParseKind(null));
    }
}
