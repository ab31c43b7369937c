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

    /// <summary>Problems that make this profile unusable, as (field, reason) pairs; empty when valid.</summary>
    public IReadOnlyList<SpecError> Validate()
    {
        var errors = new List<SpecError>();
        if (!double.IsFinite(Gflops) || Gflops <= 0 || Gflops > 10_000_000)
            errors.Add(new SpecError("capabilities.gflops", "must be a positive number of GFLOP/s"));
        if (MemoryMb <= 0) errors.Add(new SpecError("capabilities.memoryMb", "must be positive"));
        if (Kind == DeviceKind.Gpu && VramMb <= 0) errors.Add(new SpecError("capabilities.vramMb", "a GPU must report its VRAM"));
        if (Runtimes is null || Runtimes.Length == 0 || Runtimes.Any(string.IsNullOrWhiteSpace))
            errors.Add(new SpecError("capabilities.runtimes", "must name at least one runtime"));
        if (Slots is < 1 or > 64) errors.Add(new SpecError("capabilities.slots", "must be between 1 and 64"));
        if (CpuCores is < 1 or > 4096) errors.Add(new SpecError("capabilities.cpuCores", "must be between 1 and 4096"));
        return errors;
    }
}
