using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Devices;

/// <summary>What a device says it can do. Routing trusts it only as far as verification and deadlines confirm it.</summary>
[GenerateSerializer, Immutable, Alias("huginn.device-capabilities")]
public sealed record DeviceCapabilities
{
    [Id(0)] public required DeviceKind Kind { get; init; }
    [Id(1)] public string? GpuName { get; init; }
    [Id(2)] public long VramMb { get; init; }
    [Id(3)] public required double Gflops { get; init; }
    [Id(4)] public int CpuCores { get; init; } = 1;
    [Id(5)] public required long MemoryMb { get; init; }
    [Id(6)] public required string[] Runtimes { get; init; }
    /// <summary>How many shards the device runs at once; each gets an equal share of its GFLOP/s.</summary>
    [Id(7)] public int Slots { get; init; } = 1;

    /// <summary>The memory a shard can use: VRAM on a GPU, system memory elsewhere.</summary>
    public long WorkingMemoryMb => Kind == DeviceKind.Gpu ? VramMb : MemoryMb;

    /// <summary>
    /// The largest claims the pool accepts: generous for one machine (an H200 does ~67 TFLOP/s in fp32, the speed a
    /// worker measures and reports; the largest GPUs hold 192 GB; large servers a few TB of RAM). Claims only bound a
    /// device's first shard anyway: routing then uses what its shards showed (Rules.ObservedSpeed).
    /// </summary>
    public const double MaxGflops = 1_000_000;
    public const long MaxMemoryMb = 16L << 20;
    public const long MaxVramMb = 1L << 20;
    public const int MaxSlots = 16;
    public const int MaxCpuCores = 4096;
    public const int MaxRuntimes = 8;
    public const int MaxNameLength = 100;

    /// <summary>Problems that make this profile unusable, as (field, reason) pairs; empty when valid.</summary>
    public IReadOnlyList<SpecError> Validate()
    {
        var errors = new List<SpecError>();
        if (!Enum.IsDefined(Kind)) errors.Add(new SpecError("capabilities.kind", "must be one of 'gpu', 'cpu', 'browser'"));
        if (!double.IsFinite(Gflops) || Gflops <= 0 || Gflops > MaxGflops)
            errors.Add(new SpecError("capabilities.gflops", $"must be a positive number of GFLOP/s, at most {MaxGflops:0}"));
        if (MemoryMb is <= 0 or > MaxMemoryMb) errors.Add(new SpecError("capabilities.memoryMb", $"must be between 1 and {MaxMemoryMb}"));
        if (VramMb is < 0 or > MaxVramMb) errors.Add(new SpecError("capabilities.vramMb", $"must be between 0 and {MaxVramMb}"));
        else if (Kind == DeviceKind.Gpu && VramMb == 0) errors.Add(new SpecError("capabilities.vramMb", "a GPU must report its VRAM"));
        if (Runtimes is null || Runtimes.Length is 0 or > MaxRuntimes || Runtimes.Any(r => string.IsNullOrWhiteSpace(r) || r.Length > 32))
            errors.Add(new SpecError("capabilities.runtimes", $"must name 1 to {MaxRuntimes} runtimes of at most 32 characters"));
        if (Slots is < 1 or > MaxSlots) errors.Add(new SpecError("capabilities.slots", $"must be between 1 and {MaxSlots}"));
        if (CpuCores is < 1 or > MaxCpuCores) errors.Add(new SpecError("capabilities.cpuCores", $"must be between 1 and {MaxCpuCores}"));
        if (GpuName is { Length: > MaxNameLength }) errors.Add(new SpecError("capabilities.gpuName", $"must be at most {MaxNameLength} characters"));
        return errors;
    }
}
