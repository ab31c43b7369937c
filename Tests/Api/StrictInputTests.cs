using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Huginn.Api.Access;
using Huginn.Demo;
using Huginn.Protocol;
using Huginn.Worker.Agent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Huginn.Tests.Api;

/// <summary>
/// Issue 13, finding 6: misspelled fields were ignored and type errors were a bare "Bad Request" or a .NET type name.
/// Every endpoint with a body, nested objects and arrays included, names the field by its JSON path and says what it
/// must be in JSON words.
/// </summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class StrictInputTests(ApiPoolFixture fixture)
{
    /// <summary>What no answer to a client may contain: .NET's names for types.</summary>
    public static readonly string[] DotNetWords = ["System.", "Int32", "Int64", "UInt64", "Single", "Double", "Decimal", "Nullable", "Huginn."];

    private const string Integer = "must be an integer from -2^31 to 2^31-1";
    private const string NotAField = "is not a field of this request";

    /// <summary>(endpoint, who calls it, a change to a valid body, the field named, the reason).</summary>
    public static TheoryData<string, string, string, string, string> BadBodies => new()
    {
        { "v1/jobs", "client", "spec.model.hiden_sizes=[16]", "spec.model.hiden_sizes", NotAField },
        { "v1/jobs", "client", "spec.learning_rate=0.5", "spec.learning_rate", NotAField },
        { "v1/jobs", "client", "spec.rounds=\"three\"", "spec.rounds", Integer },
        { "v1/jobs", "client", "spec.learningRate=\"fast\"", "spec.learningRate", "must be a number" },
        { "v1/jobs", "client", "maxHu=\"1\"", "maxHu", "must be a number (at most 7.9e28)" },
        { "v1/estimates", "client", "model.hiddenSizes=\"16\"", "model.hiddenSizes", "must be an array of integers" },
        { "v1/estimates", "client", "model.hiddenSizes=[16, 1.5]", "model.hiddenSizes[1]", Integer },
        { "v1/estimates", "client", "model.inputSize=3000000000", "model.inputSize", Integer },
        { "v1/estimates", "client", "dataset.synthetic.noize=0.1", "dataset.synthetic.noize", NotAField },
        { "v1/estimates", "client", "dataset.synthetic.samples=\"many\"", "dataset.synthetic.samples", "must be an integer from -2^63 to 2^63-1" },
        { "v1/estimates", "client", "seed=-1", "seed", "must be an integer from 0 to 2^64-1" },
        { "v1/estimates", "client", "kind=\"trian\"", "kind", "must be one of \"train\", \"infer\", \"prep\"" },
        { "v1/estimates", "client", "model={}", "model.type", "is required" },
        { "v1/estimates", "client", "validation={\"fractoin\":0.2}", "validation.fractoin", NotAField },
        { "v1/estimates", "client", "validation={\"fraction\":\"a fifth\"}", "validation.fraction", "must be a number" },
        { "v1/jobs", "client", "spec.validation={\"fraction\":0.9}", "validation.fraction", "must be greater than 0 and at most 0.5" },
        { "v1/devices", "contributor", "capabilities.gflopz=5", "capabilities.gflopz", NotAField },
        { "v1/devices", "contributor", "capabilities.slots=\"two\"", "capabilities.slots", Integer },
        { "v1/devices", "contributor", "capabilities.runtimes=\"torch\"", "capabilities.runtimes", "must be an array of strings" },
        { "v1/devices", "contributor", "capabilities.gflops=true", "capabilities.gflops", "must be a number" },
        { "v1/accounts/me/credits", "client", "hu=true", "hu", "must be a number (at most 7.9e28)" },
        { "v1/accounts", "anonymous", "role=7", "role", "must be a string" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_body_is_a_400_naming_the_field_by_its_path_in_json_words(string path, string caller, string change, string field, string reason)
    {
        using var http = await HttpAsync(caller);
        var body = ValidBody(path);
        Apply(body, change);

        var response = await http.PostAsync(path, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path} {change}: {response.StatusCode} {text}");
        var errors = JsonDocument.Parse(text).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var reasons), $"{path} {change}: no error on {field}: {text}");
        Assert.Equal(reason, Assert.Single(reasons.EnumerateArray()).GetString());
        Assert.All(DotNetWords, word => Assert.DoesNotContain(word, text));
    }

    /// <summary>
    /// No endpoint of the API takes a typed query or route value today (ids and formats are strings): a small app with
    /// the API's handler and binding settings shows what one gets when it does (the jobs list's limit, a cursor).
    /// </summary>
    [Theory]
    [InlineData("items?limit=ten", "limit", Integer)]
    [InlineData("items?limit=5&after=soon", "after", "must be an integer from -2^63 to 2^63-1")]
    [InlineData("items", "limit", "is required")]
    [InlineData("items/x", "index", Integer)]
    public async Task A_query_or_route_value_that_does_not_parse_is_a_400_naming_it(string url, string field, string reason)
    {
        await using var app = await BindingAppAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First() + "/") };

        var response = await http.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {response.StatusCode} {text}");
        var errors = JsonDocument.Parse(text).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var reasons), $"{url}: no error on {field}: {text}");
        Assert.Equal(reason, Assert.Single(reasons.EnumerateArray()).GetString());
        Assert.All(DotNetWords, word => Assert.DoesNotContain(word, text));
    }

    private static async Task<WebApplication> BindingAppAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{LocalPool.FreePort()}");
        builder.Services.AddProblemDetails();
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<BadRequestHandler>();
        var app = builder.Build();
        app.UseExceptionHandler();
        app.MapGet("/items", (int limit, long? after) => Results.Ok(new { limit, after }));
        app.MapGet("/items/{index}", (int index) => Results.Ok(index));
        await app.StartAsync();
        return app;
    }

    private async Task<HttpClient> HttpAsync(string caller)
    {
        var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        if (caller == "anonymous") return http;
        using var anonymous = fixture.Anonymous();
        var account = await anonymous.CreateAccountAsync($"strict-{caller}", caller);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", account.ApiKey);
        return http;
    }

    /// <summary>A body each endpoint accepts as it is, so that the one change is the only thing wrong.</summary>
    private JsonObject ValidBody(string path)
    {
        var spec = JsonSerializer.SerializeToNode(EdgeSpecs.Training(1, 1), Frame.Json)!.AsObject();
        return path switch
        {
            "v1/jobs" => new JsonObject { ["spec"] = spec, ["maxHu"] = 1 },
            "v1/estimates" => spec,
            "v1/devices" => new JsonObject
            {
                ["name"] = "strict",
                ["capabilities"] = JsonSerializer.SerializeToNode(TorchShardExecutor.Capabilities(fixture.Hardware), Frame.Json),
            },
            "v1/accounts/me/credits" => new JsonObject { ["hu"] = 1 },
            "v1/accounts" => new JsonObject { ["name"] = "strict", ["role"] = "client" },
            _ => throw new ArgumentOutOfRangeException(nameof(path), path, null),
        };
    }

    /// <summary>"a.b.c=JSON": sets (or adds) the field at that path to the JSON value.</summary>
    private static void Apply(JsonObject body, string change)
    {
        var (path, value) = (change[..change.IndexOf('=', StringComparison.Ordinal)], change[(change.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        var segments = path.Split('.');
        var target = body;
        foreach (var segment in segments[..^1]) target = target[segment]!.AsObject();
        target[segments[^1]] = JsonNode.Parse(value);
    }
}
