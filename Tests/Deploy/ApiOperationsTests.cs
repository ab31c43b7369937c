using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using Huginn.Api.Hosting;
using Huginn.Demo;
using Huginn.Tests.Api;
using Huginn.Tests.Pool;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Huginn.Tests.Deploy;

/// <summary>What the manifests' probes and Prometheus rely on, served by a real pool (the Api co-hosted with a silo).</summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class ApiOperationsTests(ApiPoolFixture fixture)
{
    private HttpClient Http() => new() { BaseAddress = fixture.Pool.ApiUrl };

    [Theory]
    [InlineData("healthz/live")]
    [InlineData("healthz/ready")]
    [InlineData("healthz")]
    public async Task Health_endpoints_answer_ok_without_a_key_while_the_cluster_is_up(string path)
    {
        using var http = Http();
        var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task OpenAPI_document_lists_the_health_endpoints()
    {
        using var http = Http();
        var paths = (await http.GetFromJsonAsync<JsonElement>("openapi/v1.json")).GetProperty("paths");
        foreach (var path in new[] { "/healthz", "/healthz/live", "/healthz/ready" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
    }

    [Fact]
    public async Task Metrics_are_Prometheus_text_and_count_the_HU_a_credit_mints()
    {
        using var http = Http();
        var before = await SumAsync(http, "huginn_pool_hu_minted");

        await fixture.ClientWithHuAsync(2m); // 2 HU = 2,000,000 micro-HU from the mint

        // Other collections' silos share this process and its meter, so the counter may grow by more; never by less.
        var after = await Eventually.UntilAsync(() => SumAsync(http, "huginn_pool_hu_minted"), v => v >= before + 2_000_000,
            "the minted-HU counter rising by the 2 HU credited");
        Assert.True(after >= before + 2_000_000);
        var text = await http.GetStringAsync("metrics");
        Assert.Contains("# TYPE huginn_pool_hu_minted", text);
        Assert.Contains("dotnet_gc_collections_total", text); // the runtime's meter beside the pool's
        await fixture.AssertLedgerBalancedAsync();
    }

    /// <summary>Sum of every sample of a metric family (0 before its first measurement) from <c>/metrics</c>.</summary>
    internal static async Task<double> SumAsync(HttpClient http, string family)
    {
        var response = await http.GetAsync("metrics");
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        return text.Split('\n').Where(line => !line.StartsWith('#') && NameOf(line) is { } name
                && (name == family || name == family + "_total"))
            .Sum(ValueOf);
    }

    // A sample line is `name{labels} value [timestamp]`; label values here never hold spaces or braces.
    private static string? NameOf(string line)
    {
        var end = line.IndexOfAny(['{', ' ']);
        return end > 0 ? line[..end] : null;
    }

    private static double ValueOf(string line)
    {
        var afterLabels = line.Contains('}') ? line[(line.LastIndexOf('}') + 1)..] : line[line.IndexOf(' ')..];
        return double.Parse(afterLabels.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);
    }
}

/// <summary>Readiness follows the cluster; liveness never does. An Api whose Orleans client cannot reach any silo.</summary>
public sealed class ApiReadinessTests
{
    [Fact]
    public async Task Readiness_fails_and_liveness_holds_when_the_cluster_does_not_answer()
    {
        await using var app = await StartAsync(FakeCluster.Throwing(new SiloUnavailableException("no gateway")));
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        var live = await http.GetAsync("healthz/live");
        var ready = await http.GetAsync("healthz/ready");
        var both = await http.GetAsync("healthz");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, both.StatusCode);
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("unavailable", body.GetProperty("status").GetString());
        Assert.Contains("SiloUnavailableException", body.GetProperty("failed").GetProperty("cluster").GetString());
    }

    [Fact]
    public async Task Cluster_check_is_healthy_only_with_an_active_silo()
    {
        var none = await new ClusterClientHealthCheck(FakeCluster.WithHosts(0)).CheckHealthAsync(new HealthCheckContext());
        var one = await new ClusterClientHealthCheck(FakeCluster.WithHosts(1)).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, none.Status);
        Assert.Equal(HealthStatus.Healthy, one.Status);
    }

    private static async Task<WebApplication> StartAsync(IClusterClient cluster)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(cluster);
        builder.Services.AddHuginnApiOperations();
        builder.WebHost.UseUrls($"http://127.0.0.1:{LocalPool.FreePort()}");
        var app = builder.Build();
        app.MapHuginnApiOperations();
        await app.StartAsync();
        return app;
    }
}

/// <summary>An Orleans client whose management grain answers GetHosts as told; every other member is unused here.</summary>
public class FakeCluster : DispatchProxy
{
    private Func<Task<Dictionary<SiloAddress, SiloStatus>>> _hosts = null!;

    public static IClusterClient Throwing(Exception exception) => Create(() => Task.FromException<Dictionary<SiloAddress, SiloStatus>>(exception));

    public static IClusterClient WithHosts(int count) => Create(() => Task.FromResult(Enumerable.Range(0, count)
        .ToDictionary(i => SiloAddress.New(IPAddress.Loopback, 11111 + i, 1), _ => SiloStatus.Active)));

    private static IClusterClient Create(Func<Task<Dictionary<SiloAddress, SiloStatus>>> hosts)
    {
        var client = DispatchProxy.Create<IClusterClient, FakeCluster>();
        ((FakeCluster)(object)client)._hosts = hosts;
        return client;
    }

    protected override object? Invoke(MethodInfo? method, object?[]? args)
    {
        if (method is { Name: "GetGrain", IsGenericMethod: true } && method.GetGenericArguments()[0] == typeof(IManagementGrain))
        {
            var grain = DispatchProxy.Create<IManagementGrain, FakeCluster>();
            ((FakeCluster)(object)grain)._hosts = _hosts;
            return grain;
        }
        if (method?.Name == nameof(IManagementGrain.GetHosts)) return _hosts();
        throw new NotSupportedException($"{method?.Name} is not part of the fake cluster");
    }
}
