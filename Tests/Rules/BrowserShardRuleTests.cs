using Huginn.Grains;
using Huginn.Grains.Interfaces.Routing;
using Huginn.Grains.Rules;
using Huginn.Tests.Workloads;
using Huginn.Workloads;

namespace Huginn.Tests.Rules;

/// <summary>Light shards go to browsers (bounded memory and expected time there), heavy ones never.</summary>
public sealed class BrowserShardRuleTests
{
    private static readonly PoolOptions Options = new();

    [Fact]
    public void Train_and_infer_of_the_mlp_and_cnn_are_admitted_when_light()
    {
        Assert.True(BrowserShardRule.Admits(ExampleSpecs.Train(ExampleSpecs.Mlp()), 65));
        Assert.True(BrowserShardRule.Admits(ExampleSpecs.Infer(ExampleSpecs.Cnn()), 256));
        Assert.True(BrowserShardRule.Admits(ExampleSpecs.Prep(ExampleSpecs.Transformer()), 100));
    }

    [Fact]
    public void Heavy_bf16_and_untrusted_models_are_never_admitted()
    {
        Assert.False(BrowserShardRule.Admits(ExampleSpecs.Train(ExampleSpecs.Mlp()), BrowserShardRule.MaxMemoryMb + 1));
        Assert.False(BrowserShardRule.Admits(ExampleSpecs.Train(ExampleSpecs.Mlp()) with { Precision = NumericPrecision.Bf16 }, 65));
        Assert.False(BrowserShardRule.Admits(ExampleSpecs.Train(ExampleSpecs.Transformer()), 65));
    }

    [Fact]
    public void Planner_routes_a_light_mlp_and_cnn_to_browsers_with_the_js_runtime()
    {
        foreach (var spec in new[] { ExampleSpecs.Train(ExampleSpecs.Mlp()), ExampleSpecs.Train(ExampleSpecs.Cnn()), ExampleSpecs.Infer(ExampleSpecs.Mlp()) })
        {
            var requirement = JobPlanner.Plan(spec).Requirement;
            Assert.True(requirement.MinMemoryMb <= BrowserShardRule.MaxMemoryMb, $"{spec.Model!.Type} {spec.Kind} needs {requirement.MinMemoryMb} MB");
            Assert.Equal([DeviceKind.Gpu, DeviceKind.Cpu, DeviceKind.Browser], requirement.AllowedKinds);
            Assert.Equal(["torch", "js"], requirement.Runtimes);
            Assert.True(requirement.Allows(DeviceKind.Browser, 1024, ["js", "tfjs-wasm"]));
        }
    }

    [Fact]
    public void Planner_keeps_heavy_and_transformer_shards_off_browsers()
    {
        var heavy = JobPlanner.Plan(ExampleSpecs.Train(ExampleSpecs.Mlp(input: 1024, hidden: [4096, 2048], output: 10)));
        var transformer = JobPlanner.Plan(ExampleSpecs.Train(ExampleSpecs.Transformer()));

        Assert.True(heavy.Requirement.MinMemoryMb > BrowserShardRule.MaxMemoryMb);
        Assert.Equal([DeviceKind.Gpu, DeviceKind.Cpu], heavy.Requirement.AllowedKinds);
        Assert.Equal(["torch"], heavy.Requirement.Runtimes);
        Assert.DoesNotContain(DeviceKind.Browser, transformer.Requirement.AllowedKinds);
    }

    [Fact]
    public void A_browser_too_slow_for_thirty_seconds_is_passed_over_and_a_cpu_as_slow_is_not()
    {
        // 10 GFLOP at 1 GFLOP/s × 0.25 efficiency: 1 s + 40 s expected, over the browser bound (the lease limit allows it).
        const long flops = 10_000_000_000;
        var request = Request(flops);
        Assert.False(BrowserShardRule.FitsTime(Routing.ExpectedSeconds(flops, 1, 1, Options)));

        var slowBrowser = Device("slow-browser", DeviceKind.Browser, gflops: 1);
        var choice = Routing.Choose([slowBrowser, Device("slow-cpu", DeviceKind.Cpu, gflops: 0.9)], request, Options);
        Assert.Equal("slow-cpu", choice!.Value.Device.DeviceId);
        Assert.False(Routing.IsEligible(slowBrowser, request, Options));

        // Fast enough (1 s + 4 s at 10 GFLOP/s): the browser is chosen, being quicker than the CPU.
        var fastBrowser = Device("fast-browser", DeviceKind.Browser, gflops: 10);
        Assert.Equal("fast-browser", Routing.Choose([fastBrowser, Device("slow-cpu", DeviceKind.Cpu, gflops: 0.9)], request, Options)!.Value.Device.DeviceId);
        Assert.True(Routing.IsEligible(fastBrowser, request, Options));
    }

    private static DeviceSlotEntry Device(string id, DeviceKind kind, double gflops) => new()
    {
        DeviceId = id, OwnerAccountId = $"owner-{id}", Kind = kind, WorkingMemoryMb = 1024, Gflops = gflops,
        Runtimes = ["torch", "js"], Slots = 1, BusySlots = 0, Reliability = 1, CachedBlobIds = [],
    };

    private static RouteRequest Request(long flops) => new()
    {
        Requirement = new ShardRequirement(65, ["torch", "js"], [DeviceKind.Gpu, DeviceKind.Cpu, DeviceKind.Browser], flops),
        MaxDuration = TimeSpan.FromHours(1),
        ExcludedOwners = [],
        InputBlobIds = [],
    };
}
