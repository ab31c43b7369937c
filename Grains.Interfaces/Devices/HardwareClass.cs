using Huginn.Workloads;

namespace Huginn.Grains.Interfaces.Devices;

/// <summary>
/// Groups devices that can run the same shards at a similar speed: kind plus a memory tier.
/// The class partitions the routing tables and is what "same hardware class" means for audits.
/// </summary>
public static class HardwareClass
{
    private static readonly int[] TiersGb = [1, 2, 4, 8, 12, 16, 24, 32, 48, 80, 141];

    /// <summary>The class key, e.g. "gpu-24g", "cpu-16g", "browser-2g".</summary>
    public static string Of(DeviceCapabilities capabilities)
    {
        // 10% slack so that a 24 GB card reporting 23 GiB usable still lands in the 24 GB tier.
        var memoryMb = capabilities.WorkingMemoryMb;
        var tier = 0;
        foreach (var gb in TiersGb)
        {
            if (memoryMb >= gb * 1024L * 9 / 10) tier = gb;
        }
        return $"{Kind(capabilities.Kind)}-{tier}g";
    }

    /// <summary>
    /// The device kind of an API name (<see cref="Kind(DeviceKind)"/>, any case); null for anything else. One name, one
    /// kind: Enum.TryParse also took "gpu,cpu" (a combination of flags) and "1" (a number).
    /// </summary>
    public static DeviceKind? ParseKind(string? name) =>
        name is null ? null : Enum.GetValues<DeviceKind>().Cast<DeviceKind?>().FirstOrDefault(k => string.Equals(Kind(k!.Value), name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The device kind of a class key made by <see cref="Of"/> ("browser-2g" → Browser); null for anything else.</summary>
    public static DeviceKind? KindOf(string? classKey) =>
        classKey?.IndexOf('-') is > 0 and var dash
            ? Enum.GetValues<DeviceKind>().Cast<DeviceKind?>().FirstOrDefault(k => string.Equals(Kind(k!.Value), classKey[..dash], StringComparison.Ordinal))
            : null;

    /// <summary>The lower-case name of a device kind as it appears in class keys and the API.</summary>
    public static string Kind(DeviceKind kind) => kind switch
    {
        DeviceKind.Gpu => "gpu",
        DeviceKind.Cpu => "cpu",
        DeviceKind.Browser => "browser",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
