namespace Huginn.Grains.Interfaces.Devices;

/// <summary>
/// A device's speed as its completed shards showed it, in the units it claims (<see cref="DeviceCapabilities.Gflops"/>:
/// the GFLOP/s that routing's timing model would need to explain the observed shard times). 0 samples: nothing
/// observed yet. Kept by the device grain (<c>Rules.ObservedSpeed</c>); the claim only bounds it.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.device-speed")]
public sealed record DeviceSpeed
{
    [Id(0)] public double Gflops { get; init; }
    [Id(1)] public int Samples { get; init; }

    public static DeviceSpeed Unobserved { get; } = new();
}
