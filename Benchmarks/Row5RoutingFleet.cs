using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Routing;
using Huginn.Workloads;

namespace Huginn.Benchmarks;

/// <summary>One simulated device of the row 5 fleet: ids shaped like the Api's, a profile, the blobs it reports cached.</summary>
public sealed record Row5Device(string DeviceId, string OwnerId, string Name, DeviceCapabilities Capabilities, string[] CachedBlobIds)
{
    public string HardwareClass { get; } = Huginn.Grains.Interfaces.Devices.HardwareClass.Of(Capabilities);
}

/// <summary>
/// A seeded, realistic mix of contributed hardware (CPUs of four sizes, five GPU kinds from 10 GB to 80 GB, browser
/// tabs) spread over owners who hold several devices each, and a mix of routing requests shaped like the job
/// grain's: light inference, data preparation, medium and large training, with audit and retry exclusions.
/// </summary>
public sealed class Row5RoutingFleet
{
    private sealed record Profile(string Name, int Weight, DeviceKind Kind, long VramMb, double Gflops, long MemoryMb, int Cores, string[] Runtimes, int Slots);

    // Weights are per 100 devices; GFLOP/s are fp32 peaks (GPUs) or rough core × clock × SIMD figures (CPUs, browsers).
    private static readonly Profile[] Profiles =
    [
        new("laptop-cpu", 15, DeviceKind.Cpu, 0, 60, 8_192, 4, ["torch"], 1),
        new("desktop-cpu", 15, DeviceKind.Cpu, 0, 150, 16_384, 8, ["torch"], 2),
        new("workstation-cpu", 7, DeviceKind.Cpu, 0, 400, 32_768, 16, ["torch"], 4),
        new("server-cpu", 3, DeviceKind.Cpu, 0, 1_000, 65_536, 32, ["torch"], 8),
        new("rtx3060", 10, DeviceKind.Gpu, 12_288, 12_700, 16_384, 8, ["torch"], 1),
        new("rtx3080", 6, DeviceKind.Gpu, 10_240, 29_800, 32_768, 8, ["torch"], 1),
        new("rtx4090", 8, DeviceKind.Gpu, 24_576, 82_600, 65_536, 16, ["torch"], 2),
        new("a100-40g", 3, DeviceKind.Gpu, 40_960, 19_500, 131_072, 32, ["torch"], 2),
        new("h100-80g", 3, DeviceKind.Gpu, 81_920, 67_000, 262_144, 64, ["torch"], 4),
        new("browser-2g", 15, DeviceKind.Browser, 0, 20, 2_048, 1, ["js"], 1),
        new("browser-4g", 15, DeviceKind.Browser, 0, 40, 4_096, 1, ["js"], 1),
    ];

    /// <summary>Blobs every job of the mix reads (datasets and weights): popular ones end up cached on many devices.</summary>
    public string[] PopularBlobs { get; }

    public IReadOnlyList<Row5Device> Devices { get; }

    public Row5RoutingFleet(int devices, int seed)
    {
        var random = new Random(seed);
        PopularBlobs = Enumerable.Range(0, 8).Select(_ => BlobId(random)).ToArray();
        // Owners hold 1 to 9 devices (5 on average): a farm's devices share an owner, which audits must avoid.
        var owners = Enumerable.Range(0, Math.Max(4, devices / 5)).Select(_ => $"acct_{Id(random)}").ToArray();
        var totalWeight = Profiles.Sum(p => p.Weight);
        var list = new List<Row5Device>(devices);
        for (var i = 0; i < devices; i++)
        {
            var pick = random.Next(totalWeight);
            var profile = Profiles.First(p => (pick -= p.Weight) < 0);
            var capabilities = new DeviceCapabilities
            {
                Kind = profile.Kind,
                GpuName = profile.Kind == DeviceKind.Gpu ? profile.Name : null,
                VramMb = profile.VramMb,
                Gflops = profile.Gflops,
                CpuCores = profile.Cores,
                MemoryMb = profile.MemoryMb,
                Runtimes = [.. profile.Runtimes],
                Slots = profile.Slots,
            };
            // Online devices report 0 to 4 cached blobs, mostly popular ones, sometimes a private one.
            var cached = Enumerable.Range(0, random.Next(5))
                .Select(_ => random.Next(4) == 0 ? BlobId(random) : PopularBlobs[random.Next(PopularBlobs.Length)])
                .Distinct()
                .ToArray();
            list.Add(new Row5Device($"dev_{Id(random)}", owners[random.Next(owners.Length)], $"{profile.Name}-{i}", capabilities, cached));
        }
        Devices = list;
    }

    /// <summary>
    /// Routing requests with the job grain's shape (RouteRequest built in JobGrain.TryLeaseAsync): the planner's
    /// requirements for five job kinds, the 1 h lease cap, the job's input blobs; 20 % are audits (the primary's
    /// device and owner excluded, its class preferred), 10 % retries (2–3 devices that failed or refused excluded).
    /// </summary>
    public RouteRequest[] Requests(int count, IReadOnlyList<Row5Device> online, int seed)
    {
        var random = new Random(seed);
        var requests = new RouteRequest[count];
        for (var i = 0; i < count; i++)
        {
            var requirement = random.Next(100) switch
            {
                < 30 => new ShardRequirement(128, ["torch"], [DeviceKind.Gpu, DeviceKind.Cpu, DeviceKind.Browser], 200_000_000),
                < 50 => new ShardRequirement(256, ["torch", "js"], [DeviceKind.Gpu, DeviceKind.Cpu, DeviceKind.Browser], 50_000_000),
                < 80 => new ShardRequirement(3_000, ["torch"], [DeviceKind.Gpu, DeviceKind.Cpu], 200_000_000_000),
                < 95 => new ShardRequirement(16_000, ["torch"], [DeviceKind.Gpu, DeviceKind.Cpu], 2_000_000_000_000),
                _ => new ShardRequirement(60_000, ["torch"], [DeviceKind.Gpu, DeviceKind.Cpu], 20_000_000_000_000),
            };
            var inputs = random.Next(2) == 0
                ? new[] { PopularBlobs[random.Next(PopularBlobs.Length)] }
                : [PopularBlobs[random.Next(PopularBlobs.Length)], PopularBlobs[random.Next(PopularBlobs.Length)]];
            var kind = random.Next(100);
            if (kind < 20)
            {
                var primary = online[random.Next(online.Count)];
                requests[i] = new RouteRequest
                {
                    Requirement = requirement,
                    MaxDuration = TimeSpan.FromHours(1),
                    ExcludedDevices = [primary.DeviceId],
                    ExcludedOwners = [primary.OwnerId],
                    PreferredClass = primary.HardwareClass,
                    InputBlobIds = inputs,
                };
            }
            else
            {
                var excluded = kind < 30 ? Enumerable.Range(0, 2 + random.Next(2)).Select(_ => online[random.Next(online.Count)].DeviceId).ToArray() : [];
                requests[i] = new RouteRequest
                {
                    Requirement = requirement,
                    MaxDuration = TimeSpan.FromHours(1),
                    ExcludedDevices = excluded,
                    InputBlobIds = inputs,
                };
            }
        }
        return requests;
    }

    /// <summary>A 32-hex-digit id like the Api's Guid "N" ids, drawn from the seeded generator.</summary>
    public static string Id(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes).ToString("N");
    }

    /// <summary>A content address as the Api checks it: 64 lower-case hex digits.</summary>
    public static string BlobId(Random random)
    {
        Span<byte> bytes = stackalloc byte[32];
        random.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }
}
