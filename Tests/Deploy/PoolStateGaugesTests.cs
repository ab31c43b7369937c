using System.Globalization;
using System.Text.RegularExpressions;
using Huginn.Api.Apis;
using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Pool;
using Huginn.Grains.Interfaces.Telemetry;
using Huginn.Tests.Api;
using Huginn.Worker.Agent;

namespace Huginn.Tests.Deploy;

/// <summary>
/// The state gauges served at <c>/metrics</c>: devices online by class and kind, and the queue, as the pool's grains
/// hold them. A pool of its own, in a collection that runs alone: the gauges of every pool in the test process share
/// one meter, so a pool of another collection running beside this one would report into the same series.
/// </summary>
[Collection(PoolStateGaugesCollection.Name), Trait("Category", "Edge")]
public sealed partial class PoolStateGaugesTests : IAsyncLifetime
{
    private readonly ApiPoolFixture _fixture = new()
    {
        // Polled often so that the test waits for milliseconds rather than the production 10 s.
        Overrides = new Dictionary<string, string?> { [PoolStateGauges.IntervalKey] = "00:00:00.200" },
    };

    public Task InitializeAsync() => _fixture.InitializeAsync();

    public Task DisposeAsync() => _fixture.DisposeAsync();

    [Fact]
    public async Task Metrics_show_devices_online_by_class_and_the_queue_the_grains_hold()
    {
        using var http = new HttpClient { BaseAddress = _fixture.Pool.ApiUrl };
        await using var workers = new RunningWorkers(_fixture);
        await workers.StartAsync("gauge-a");
        await workers.StartAsync("gauge-b");
        // The class the Api derives from what the workers registered.
        var hardwareClass = HardwareClass.Of(DevicesApi.ToCapabilities(TorchShardExecutor.Capabilities(_fixture.Hardware), out _)!);

        await UntilGaugeAsync(http, "huginn_pool_devices_online", 2, ("class", hardwareClass), ("kind", "cpu"));

        // A job's load as a job reports it at submission (7 shards left), straight to the grain: no worker picks it up,
        // so the queue holds still while the test reads it.
        var load = _fixture.Pool.Grains.GetGrain<IPoolLoadGrain>(IPoolLoadGrain.Key);
        await load.ReportAsync(new JobLoad("gauge-test-job", 7, 3.5e12, Active: true));
        await UntilGaugeAsync(http, "huginn_pool_queue_shards", 7);
        await UntilGaugeAsync(http, "huginn_pool_queue_flops", 3.5e12);
        await UntilGaugeAsync(http, "huginn_pool_jobs_running", 1);

        await load.ReportAsync(new JobLoad("gauge-test-job", 0, 0, Active: false));
        await UntilGaugeAsync(http, "huginn_pool_queue_shards", 0);
        await UntilGaugeAsync(http, "huginn_pool_jobs_running", 0);

        // A class that empties reports 0 rather than vanishing, so that "no devices" is a value an alert can see.
        await workers.DisposeAsync();
        await UntilGaugeAsync(http, "huginn_pool_devices_online", 0, ("class", hardwareClass), ("kind", "cpu"));
    }

    /// <summary>Waits until exactly one sample of the family carries the labels, and its value is the one expected.</summary>
    private static Task UntilGaugeAsync(HttpClient http, string family, double expected, params (string Name, string Value)[] labels) =>
        Pool.Eventually.UntilAsync(async () =>
            {
                var text = await http.GetStringAsync("metrics");
                var samples = Samples(text, family).Where(s => labels.All(l => s.Labels.GetValueOrDefault(l.Name) == l.Value)).ToList();
                return samples.Count == 1 ? samples[0].Value : (double?)null;
            }, value => value == expected,
            $"{family}{{{string.Join(',', labels.Select(l => $"{l.Name}=\"{l.Value}\""))}}} reading {expected}");

    // `name{a="x",b="y"} value` or `name value`; the exporter adds scope labels (otel_scope_name) that the test ignores.
    private static IEnumerable<(Dictionary<string, string> Labels, double Value)> Samples(string text, string family) =>
        text.Split('\n').Select(line => SampleLine().Match(line)).Where(m => m.Success && m.Groups["name"].Value == family)
            .Select(m => (
                LabelPair().Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value),
                double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})?\s+(?<value>\S+)")]
    private static partial Regex SampleLine();

    [GeneratedRegex("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"")]
    private static partial Regex LabelPair();
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PoolStateGaugesCollection
{
    public const string Name = "pool-state-gauges";
}
