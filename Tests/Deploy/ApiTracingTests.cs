using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Huginn.Demo;
using Huginn.Grains.Interfaces.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Huginn.Tests.Deploy;

/// <summary>
/// With tracing on, an Api request and the grain calls it makes are one trace: the request's span (ASP.NET Core) and
/// Orleans' grain-call spans carry the trace id the caller sent in <c>traceparent</c>. Without the activity propagation
/// this adds on the silo, Orleans starts no span at all; without the OpenTelemetry wiring there is no TracerProvider.
/// </summary>
[Trait("Category", "Edge")]
public sealed class ApiTracingTests
{
    [Fact]
    public async Task A_request_and_its_grain_calls_share_the_trace_the_caller_started()
    {
        var seen = new ConcurrentQueue<Activity>();
        // Only this test's trace is kept: other tests' pools in the process make spans too.
        var traceId = ActivityTraceId.CreateRandom();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore" || PoolTracing.OrleansSources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> options) => options.TraceId == traceId
                ? ActivitySamplingResult.AllDataAndRecorded
                : ActivitySamplingResult.None,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId) seen.Enqueue(activity);
            },
        };
        ActivitySource.AddActivityListener(listener);

        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [PoolTracing.TracingKey] = "true" }).Build();
        await using var pool = await LocalPool.StartAsync(settings);
        Assert.NotNull(pool.Services.GetService<TracerProvider>());
        using var http = new HttpClient { BaseAddress = pool.ApiUrl };

        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/accounts") { Content = JsonContent.Create(new { name = "traced", role = "client" }) };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        (await http.SendAsync(request)).EnsureSuccessStatusCode();

        // The server span stops after the response is written: wait for it rather than race it.
        await Pool.Eventually.UntilAsync(() => Task.FromResult(seen.ToArray()),
            spans => spans.Any(s => s.Source.Name == "Microsoft.AspNetCore") && spans.Any(s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal)),
            "the request's span and a grain call's span in the caller's trace", TimeSpan.FromSeconds(10));
        var server = seen.First(s => s.Source.Name == "Microsoft.AspNetCore");
        var grainCalls = seen.Where(s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal)).ToList();
        Assert.Equal(ActivityKind.Server, server.Kind);
        // The grain calls descend from the request's span: each one's parent is in the trace, the first one's is the request.
        var spanIds = seen.Select(s => s.SpanId).ToHashSet();
        Assert.All(grainCalls, call => Assert.Contains(call.ParentSpanId, spanIds));
        Assert.Contains(grainCalls, call => call.ParentSpanId == server.SpanId);
    }

    [Theory]
    [InlineData("0.25", 0.25)]
    [InlineData("0", 0.0)]
    [InlineData("1", null)]
    [InlineData(null, null)]
    public void Sample_ratio_below_one_replaces_the_default_of_every_trace(string? setting, double? expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [PoolTracing.SampleRatioKey] = setting }).Build();
        Assert.Equal(expected, PoolTracing.SampleRatio(configuration));
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("half")]
    public void Sample_ratio_outside_zero_to_one_stops_start_up(string setting)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [PoolTracing.SampleRatioKey] = setting }).Build();
        Assert.Throws<InvalidOperationException>(() => PoolTracing.SampleRatio(configuration));
    }

    [Fact]
    public async Task Tracing_is_off_unless_configured()
    {
        await using var pool = await LocalPool.StartAsync();
        Assert.Null(pool.Services.GetService<TracerProvider>());
    }
}
