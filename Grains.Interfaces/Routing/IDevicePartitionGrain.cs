using Orleans.Concurrency;
namespace Huginn.Grains.Interfaces.Routing;

/// <summary>
/// The online devices of one slice of one hardware class, held in memory and rebuilt from device refreshes.
/// Chooses and reserves a device for a shard without calling any device.
/// </summary>
[Alias("huginn.IDevicePartitionGrain")]
public interface IDevicePartitionGrain : IGrainWithStringKey
{
    /// <summary>Adds or refreshes a device's entry (its busy slots, reliability, cached inputs).</summary>
    [Alias("upsert")]
    Task UpsertAsync(DeviceSlotEntry entry);

    /// <summary>
    /// <see cref="UpsertAsync"/> without waiting: the device's busy slots and record changed while it works.
    /// One-way because a device refreshes on every offer, result and verdict, inside the job's dispatch: a lost
    /// or late refresh only makes routing try a device that refuses, and the next refresh corrects it.
    /// </summary>
    [OneWay, Alias("refresh")]
    Task RefreshAsync(DeviceSlotEntry entry);

    /// <summary>Removes a device (offline or banned).</summary>
    [Alias("remove")]
    Task RemoveAsync(string deviceId);

    /// <summary>Picks the best capable device that can finish in time and reserves one of its slots; null if none.</summary>
    [Alias("try-reserve")]
    Task<RouteDecision?> TryReserveAsync(RouteRequest request);

    /// <summary>Whether any device here could take the request, busy or not (<see cref="IShardRouterGrain.AnyEligibleAsync"/>).</summary>
    [Alias("any-eligible")]
    Task<bool> AnyEligibleAsync(RouteRequest request);

    /// <summary>Gives a reserved slot back when the device refused the offer.</summary>
    [Alias("release")]
    Task ReleaseAsync(string deviceId);
}
