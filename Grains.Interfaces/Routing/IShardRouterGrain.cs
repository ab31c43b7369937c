namespace Huginn.Grains.Interfaces.Routing;

/// <summary>
/// Chooses a device for a shard. A stateless worker: one activation per silo (or more under load),
/// each with its own cached directory snapshot, so routing scales with silos.
/// </summary>
[Alias("huginn.IShardRouterGrain")]
public interface IShardRouterGrain : IGrainWithIntegerKey
{
    /// <summary>Returns a device with a reserved slot that meets the requirement and the deadline, or null.</summary>
    [Alias("route")]
    Task<RouteDecision?> RouteAsync(RouteRequest request);
}
