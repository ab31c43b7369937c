using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Huginn.Grains.Interfaces.Telemetry;
using Huginn.Grains.Telemetry;
using YamlDotNet.RepresentationModel;

namespace Huginn.Tests.Deploy;

/// <summary>
/// deploy/observability parses, and every pool metric its alerts and dashboard query is one the pool exports under
/// that exact Prometheus name (a renamed counter would otherwise leave an alert silently never firing).
/// </summary>
public sealed partial class ObservabilityFilesTests
{
    private static string File(string name) => Path.Combine(RepositoryPaths.Deploy, "observability", name);

    /// <summary>The Prometheus names of the Huginn.Pool instruments: dots to underscores, counters end in _total.</summary>
    private static HashSet<string> ExportedPoolMetrics()
    {
        RuntimeHelpers.RunClassConstructor(typeof(PoolMeters).TypeHandle);
        Assert.Equal(4, PoolStateGauges.Instruments.Count); // creates the state gauges too
        var names = new HashSet<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, _) =>
        {
            if (instrument.Meter.Name != PoolMeters.MeterName) return;
            var name = instrument.Name.Replace('.', '_');
            names.Add(instrument is Counter<long> ? name + "_total" : name);
        };
        listener.Start(); // reports the instruments that already exist
        return names;
    }

    [Fact]
    public void Pool_meter_exports_the_counters_and_gauges_operators_were_promised()
    {
        var exported = ExportedPoolMetrics();
        foreach (var name in new[]
                 {
                     "huginn_pool_shards_leased_total", "huginn_pool_shards_settled_total", "huginn_pool_shards_failed_total",
                     "huginn_pool_audits_total", "huginn_pool_verdicts_invalid_total", "huginn_pool_hu_minted_total",
                     "huginn_pool_hu_escrowed_total", "huginn_pool_hu_paid_total", "huginn_pool_hu_forfeited_total",
                     "huginn_pool_devices_online", "huginn_pool_queue_shards", "huginn_pool_queue_flops", "huginn_pool_jobs_running",
                     "huginn_pool_jobs_submitted_total", "huginn_pool_jobs_finished_total", "huginn_pool_shards_accepted_total",
                 })
            Assert.Contains(name, exported);
    }

    [Fact]
    public void Alert_rules_are_a_valid_rule_file_whose_every_alert_says_what_it_means()
    {
        var groups = (YamlSequenceNode)Load("prometheus-rules.yaml")["groups"];
        var alerts = new List<string>();
        foreach (var group in groups.Children.Cast<YamlMappingNode>())
        {
            Assert.False(string.IsNullOrWhiteSpace(Scalar(group, "name")));
            foreach (var rule in ((YamlSequenceNode)group["rules"]).Children.Cast<YamlMappingNode>())
            {
                var alert = Scalar(rule, "alert");
                alerts.Add(alert);
                var expr = Scalar(rule, "expr");
                Assert.True(Balanced(expr), $"{alert}: unbalanced brackets in {expr}");
                Assert.Contains(Scalar((YamlMappingNode)rule["labels"], "severity"), new[] { "critical", "warning", "info" });
                var annotations = (YamlMappingNode)rule["annotations"];
                Assert.False(string.IsNullOrWhiteSpace(Scalar(annotations, "summary")), $"{alert} has no summary");
                Assert.False(string.IsNullOrWhiteSpace(Scalar(annotations, "description")), $"{alert} has no description");
                if (rule.Children.ContainsKey("for")) Assert.Matches(@"^\d+[smh]$", Scalar(rule, "for"));
            }
        }
        Assert.Equal(alerts.Count, alerts.Distinct().Count());
        // OPERATIONS.md explains every alert by name.
        var operations = System.IO.File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "OPERATIONS.md"));
        Assert.All(alerts, alert => Assert.Contains(alert, operations));
    }

    [Fact]
    public void Alerts_and_dashboard_query_only_pool_metrics_that_exist()
    {
        var exported = ExportedPoolMetrics();
        var rules = System.IO.File.ReadAllText(File("prometheus-rules.yaml"));
        var dashboard = string.Join('\n', DashboardExpressions());

        var used = PoolMetric().Matches(rules + "\n" + dashboard).Select(m => m.Value).ToHashSet();

        Assert.NotEmpty(used);
        Assert.All(used, name => Assert.Contains(name, exported));
        // And the dashboard shows every pool counter.
        Assert.All(exported, name => Assert.Contains(name, dashboard));
    }

    [Fact]
    public void Dashboard_is_Grafana_JSON_with_a_query_in_every_panel()
    {
        var expressions = DashboardExpressions().ToList();
        using var document = JsonDocument.Parse(System.IO.File.ReadAllText(File("grafana-dashboard.json")));
        var root = document.RootElement;
        Assert.Equal("huginn-pool", root.GetProperty("uid").GetString());
        var panels = root.GetProperty("panels").EnumerateArray().Where(p => p.GetProperty("type").GetString() != "row").ToList();
        Assert.NotEmpty(panels);
        Assert.All(panels, p => Assert.NotEmpty(p.GetProperty("targets").EnumerateArray()));
        Assert.All(expressions, e => Assert.True(Balanced(e), $"unbalanced brackets in {e}"));
        Assert.Equal(panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count(), panels.Count);
    }

    [Fact]
    public void Scrape_config_names_jobs_after_the_pods_the_rules_select()
    {
        var text = System.IO.File.ReadAllText(File("prometheus-scrape.yaml"));
        Load("prometheus-scrape.yaml"); // parses
        Assert.Contains("__meta_kubernetes_pod_label_app_kubernetes_io_name", text);
        var rules = System.IO.File.ReadAllText(File("prometheus-rules.yaml"));
        foreach (Match job in Regex.Matches(rules, "job=\"([^\"]+)\""))
            Assert.Contains(job.Groups[1].Value, new[] { "huginn-silo", "huginn-api" });
    }

    private static IEnumerable<string> DashboardExpressions()
    {
        using var document = JsonDocument.Parse(System.IO.File.ReadAllText(File("grafana-dashboard.json")));
        return document.RootElement.GetProperty("panels").EnumerateArray()
            .Where(p => p.TryGetProperty("targets", out _))
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)
            .ToList();
    }

    private static YamlMappingNode Load(string name)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(System.IO.File.ReadAllText(File(name)));
        stream.Load(reader);
        return (YamlMappingNode)Assert.Single(stream.Documents).RootNode;
    }

    private static string Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value ?? "" : "";

    private static bool Balanced(string expression)
    {
        var depth = new Stack<char>();
        foreach (var c in expression)
        {
            if (c is '(' or '[' or '{') depth.Push(c);
            else if (c is ')' or ']' or '}')
            {
                if (depth.Count == 0) return false;
                var open = depth.Pop();
                if ((open, c) is not (('(', ')') or ('[', ']') or ('{', '}'))) return false;
            }
        }
        return depth.Count == 0;
    }

    [GeneratedRegex(@"huginn_pool_[a-z_]+")]
    private static partial Regex PoolMetric();
}
