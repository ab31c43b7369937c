using Microsoft.Extensions.Configuration;

namespace Huginn.Grains.Interfaces.Telemetry;

/// <summary>
/// When the silo and the Api trace, and where spans go: the settings both read, kept here so that they cannot disagree
/// (a trace crosses the Api's Orleans client into the silos only when both propagate). The OpenTelemetry wiring itself is
/// in each host (Api: ApiOperationsExtensions; silo: SiloOperationsExtensions), which own the packages.
/// </summary>
public static class PoolTracing
{
    /// <summary><c>Huginn:Telemetry:Tracing=true</c> turns tracing on without an exporter (spans for in-process listeners).</summary>
    public const string TracingKey = "Huginn:Telemetry:Tracing";

    /// <summary>Huginn's own name for the collector's address; the standard variable below is read as well.</summary>
    public const string OtlpEndpointKey = "Huginn:Telemetry:OtlpEndpoint";

    /// <summary>
    /// Share of traces kept, 0 to 1 (<c>Huginn:Telemetry:SampleRatio</c>); all when unset. Decided from the trace id
    /// alone, not from the caller's sampled flag, so that a client cannot ask for its requests to be traced, and so that
    /// the silo and the Api, given the same ratio, keep the same traces.
    /// </summary>
    public const string SampleRatioKey = "Huginn:Telemetry:SampleRatio";

    /// <summary>The OpenTelemetry SDKs' standard variable; the hosts read environment variables into configuration unprefixed.</summary>
    public const string StandardOtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>
    /// Orleans' activity sources worth exporting: grain calls of the application and of the runtime, and grain storage.
    /// Lifecycle (start-up stages) and durable jobs (unused) are left out.
    /// </summary>
    public static readonly string[] OrleansSources =
    [
        Orleans.Diagnostics.ActivitySources.ApplicationGrainActivitySourceName,
        Orleans.Diagnostics.ActivitySources.RuntimeActivitySourceName,
        Orleans.Diagnostics.ActivitySources.StorageActivitySourceName,
    ];

    /// <summary>The OTLP collector's address, Huginn's key first; null when none is set (no exporter).</summary>
    public static Uri? OtlpEndpoint(IConfiguration configuration)
    {
        var value = configuration[OtlpEndpointKey] is { Length: > 0 } own ? own : configuration[StandardOtlpEndpointKey];
        if (string.IsNullOrWhiteSpace(value)) return null;
        return Uri.TryCreate(value, UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException($"The OTLP endpoint '{value}' ({OtlpEndpointKey} or {StandardOtlpEndpointKey}) is not an absolute URI.");
    }

    /// <summary>The configured ratio when it is below 1 (null: keep every trace).</summary>
    public static double? SampleRatio(IConfiguration configuration)
    {
        var value = configuration[SampleRatioKey];
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (!double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ratio)
            || ratio is < 0 or > 1)
            throw new InvalidOperationException($"{SampleRatioKey}='{value}' is not a number from 0 to 1.");
        return ratio < 1 ? ratio : null;
    }

    /// <summary>Tracing is on when asked for or when there is somewhere to send spans.</summary>
    public static bool Enabled(IConfiguration configuration) =>
        (bool.TryParse(configuration[TracingKey], out var on) && on) || OtlpEndpoint(configuration) is not null;
}
