using Microsoft.Extensions.Configuration;

namespace Huginn.Grains.Interfaces.Telemetry;

/// <summary>
/// The switch for the Orleans Dashboard, read by the silo (which profiles every grain call for it and runs its grains)
/// and by the Api (which serves its pages under <see cref="Path"/> to the operator alone). Off by default: the profiling
/// costs every grain call something, and the dashboard shows any grain's state.
/// </summary>
public static class OrleansDashboardSettings
{
    /// <summary><c>Huginn:Dashboard:Enabled=true</c>, the same on every silo and Api of a cluster.</summary>
    public const string EnabledKey = "Huginn:Dashboard:Enabled";

    /// <summary>Where the Api serves it.</summary>
    public const string Path = "/dashboard";

    public static bool Enabled(IConfiguration configuration) => bool.TryParse(configuration[EnabledKey], out var on) && on;
}
