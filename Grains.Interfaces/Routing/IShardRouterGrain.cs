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

    /// <summary>
    /// Whether any online device could ever take the request: capable, in time, not excluded, its owner not excluded;
    /// busy or not. Asked only when a shard that owners have failed finds no device, to tell "wait for a free slot"
    /// from "nobody left who has not failed it" (Round.IsExhausted).
    /// </summary>
    [Alias("any-eligible")]
    Task<bool> AnyEligibleAsync(RouteRequest request);
}
