using Huginn.Grains.Rules;
using Huginn.Grains;
using Huginn.Grains.Interfaces.Routing;
using Huginn.Grains.Routing;
using Huginn.Workloads;

namespace Huginn.Tests.Rules;

public sealed class RoutingRuleTests
{
    private static readonly PoolOptions Options = new();

    private static DeviceSlotEntry Device(string id, double gflops = 100, DeviceKind kind = DeviceKind.Cpu, long memoryMb = 16_384,
        string owner = "owner", int slots = 1, int busy = 0, double reliability = 1, string[]? runtimes = null, string[]? cached = null) => new()
    {
        DeviceId = id, OwnerAccountId = owner, Kind = kind, WorkingMemoryMb = memoryMb, Gflops = gflops,
        Runtimes = runtimes ?? ["torch"], Slots = slots, BusySlots = busy, Reliability = reliability, CachedBlobIds = cached ?? [],
    };

    private static RouteRequest Request(long flops = 1_000_000, long memoryMb = 128, TimeSpan? maxDuration = null,
        string[]? excludedOwners = null, string[]? inputs = null) => new()
    {
        Requirement = new ShardRequirement
        {
            Flops = flops, MinMemoryMb = memoryMb, Runtimes = ["torch"],
            AllowedKinds = [DeviceKind.Gpu, DeviceKind.Cpu, DeviceKind.Browser],
        },
        MaxDuration = maxDuration ?? TimeSpan.FromHours(1),
        ExcludedOwners = excludedOwners ?? [],
        InputBlobIds = inputs ?? [],
    };

    [Fact]
    public void Device_without_the_memory_or_runtime_is_never_chosen()
    {
        var choice = Routing.Choose(
            [Device("small", memoryMb: 64, gflops: 9000), Device("no-torch", runtimes: ["js"], gflops: 9000), Device("ok")],
            Request(memoryMb: 128), Options);

        Assert.Equal("ok", choice!.Value.Device.DeviceId);
    }

    [Fact]
    public void Full_device_is_skipped()
    {
        var choice = Routing.Choose([Device("full", busy: 1, gflops: 9000), Device("free")], Request(), Options);

        Assert.Equal("free", choice!.Value.Device.DeviceId);
    }

    [Fact]
    public void Faster_more_reliable_and_less_loaded_devices_are_preferred()
    {
        Assert.Equal("fast", Routing.Choose([Device("slow", gflops: 10), Device("fast", gflops: 1000)], Request(flops: 10_000_000_000), Options)!.Value.Device.DeviceId);
        Assert.Equal("trusted", Routing.Choose([Device("doubtful", reliability: 0.2), Device("trusted")], Request(), Options)!.Value.Device.DeviceId);
        Assert.Equal("idle", Routing.Choose([Device("busy", slots: 2, busy: 1), Device("idle", slots: 2)], Request(), Options)!.Value.Device.DeviceId);
    }

    [Fact]
    public void Device_holding_the_inputs_is_preferred()
    {
        var choice = Routing.Choose([Device("cold"), Device("warm", cached: ["blob-1"])], Request(inputs: ["blob-1"]), Options);

        Assert.Equal("warm", choice!.Value.Device.DeviceId);
    }

    [Fact]
    public void Device_too_slow_to_finish_before_the_deadline_is_never_chosen()
    {
        // 1 PFLOP at 25% of 10 GFLOP/s is about 4.6 days; the lease limit is one hour.
        var choice = Routing.Choose([Device("slow", gflops: 10)], Request(flops: 1_000_000_000_000_000, maxDuration: TimeSpan.FromHours(1)), Options);

        Assert.Null(choice);
    }

    [Fact]
    public void Audit_never_goes_to_the_same_owner()
    {
        var choice = Routing.Choose([Device("mine", owner: "alice", gflops: 9000), Device("theirs", owner: "bob")],
            Request(excludedOwners: ["alice"]), Options);

        Assert.Equal("theirs", choice!.Value.Device.DeviceId);
    }

    [Fact]
    public void Heavy_shards_try_the_fastest_class_first_and_light_ones_the_smallest()
    {
        var snapshot = new PoolSnapshot(1,
        [
            Summary("gpu-24g/0", "gpu-24g", DeviceKind.Gpu, 50_000),
            Summary("cpu-16g/0", "cpu-16g", DeviceKind.Cpu, 100),
        ]);

        var heavy = Routing.OrderClasses(snapshot, Request(flops: 10_000_000_000_000), Options).Select(c => c[0].HardwareClass);
        var light = Routing.OrderClasses(snapshot, Request(flops: 1_000_000), Options).Select(c => c[0].HardwareClass);

        Assert.Equal(["gpu-24g", "cpu-16g"], heavy);
        Assert.Equal(["cpu-16g", "gpu-24g"], light);
    }

    [Fact]
    public void An_owner_at_the_jobs_device_cap_gets_more_of_it_only_on_the_devices_it_already_has_there()
    {
        var request = Request() with { CappedOwners = ["farmer"], CappedOwnersDevices = ["farm-1", "farm-2"] };
        DeviceSlotEntry Entry(string id, string owner) => new()
        {
            DeviceId = id, OwnerAccountId = owner, Kind = DeviceKind.Cpu, WorkingMemoryMb = 16_384, Gflops = 100, Runtimes = ["torch"],
            Slots = 1, BusySlots = 0, Reliability = 1, CachedBlobIds = [],
        };

        Assert.True(Routing.IsCandidate(Entry("farm-1", "farmer"), request));
        Assert.False(Routing.IsCandidate(Entry("farm-3", "farmer"), request));
        Assert.True(Routing.IsCandidate(Entry("dev-b", "bob"), request));
    }

    [Fact]
    public void An_fp32_audit_prefers_the_primarys_class_and_a_bf16_audit_requires_it()
    {
        Assert.Equal(("gpu-24g", null), Routing.AuditClass(NumericPrecision.Fp32, "gpu-24g"));
        Assert.Equal(("gpu-24g", "gpu-24g"), Routing.AuditClass(NumericPrecision.Bf16, "gpu-24g"));
        // A first lease has no primary: any class may take it.
        Assert.Equal((null, null), Routing.AuditClass(NumericPrecision.Bf16, null));
    }

    [Fact]
    public void A_required_class_leaves_every_other_class_out_even_a_faster_one()
    {
        var snapshot = new PoolSnapshot(1,
        [
            Summary("gpu-80g/0", "gpu-80g", DeviceKind.Gpu, 50_000),
            Summary("gpu-24g/0", "gpu-24g", DeviceKind.Gpu, 1000),
            Summary("gpu-24g/1", "gpu-24g", DeviceKind.Gpu, 900),
        ]);

        var preferred = Routing.OrderClasses(snapshot, Request() with { PreferredClass = "gpu-24g" }, Options);
        var required = Routing.OrderClasses(snapshot, Request() with { PreferredClass = "gpu-24g", RequiredClass = "gpu-24g" }, Options);

        Assert.Equal(["gpu-24g", "gpu-80g"], preferred.Select(c => c[0].HardwareClass));
        Assert.Equal(["gpu-24g/0", "gpu-24g/1"], Assert.Single(required).Select(p => p.PartitionKey));
    }

    [Fact]
    public void A_bf16_first_lease_goes_only_to_a_class_where_another_owner_could_audit_it()
    {
        var snapshot = new PoolSnapshot(1,
        [
            Summary("gpu-8g/0", "gpu-8g", DeviceKind.Gpu, 1000) with { OwnerSample = ["carol"] },
            Summary("gpu-24g/0", "gpu-24g", DeviceKind.Gpu, 1000) with { OwnerSample = ["alice"] },
            Summary("gpu-24g/1", "gpu-24g", DeviceKind.Gpu, 1000) with { OwnerSample = ["bob"] },
            Summary("gpu-48g/0", "gpu-48g", DeviceKind.Gpu, 1000) with { OwnerSample = ["dave", "erin"] },
        ]);

        Assert.True(Routing.NeedsAuditableClass(NumericPrecision.Bf16, primaryClass: null));
        Assert.False(Routing.NeedsAuditableClass(NumericPrecision.Bf16, primaryClass: "gpu-24g"));
        Assert.False(Routing.NeedsAuditableClass(NumericPrecision.Fp32, primaryClass: null));
        var auditable = Routing.OrderClasses(snapshot, Request() with { AuditableClassOnly = true }, Options);
        Assert.Equal(["gpu-24g", "gpu-48g"], auditable.Select(c => c[0].HardwareClass));
        Assert.Equal(3, Routing.OrderClasses(snapshot, Request(), Options).Count);
    }

    private static PartitionSummary Summary(string key, string hardwareClass, DeviceKind kind, double gflops) => new()
    {
        PartitionKey = key, HardwareClass = hardwareClass, Kind = kind, DevicesOnline = 1, MaxMemoryMb = 16_384,
        MaxGflops = gflops, TotalGflops = gflops, Runtimes = ["torch"], TotalSlots = 1,
    };
}
