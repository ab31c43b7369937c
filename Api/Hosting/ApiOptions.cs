namespace Huginn.Api.Hosting;

/// <summary>Bound from "Huginn:Api".</summary>
public sealed class ApiOptions
{
    public const string Section = "Huginn:Api";

    /// <summary>Local default: anyone may buy HU by asking. Production: false, crediting is an operator action.</summary>
    public bool OpenCredits { get; set; } = true;

    /// <summary>Largest worker frame accepted (header + payload).</summary>
    public int MaxFrameBytes { get; set; } = Protocol.Frame.DefaultMaxFrameBytes;

    /// <summary>How long a new worker connection may take to say hello.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often workers are asked to heartbeat (well inside the pool's heartbeat timeout).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Malformed frames tolerated on one connection before it is closed.</summary>
    public int MalformedFramesBeforeClose { get; set; } = 3;

    /// <summary>
    /// The operator's secret (from configuration or HUGINN__API__OPERATORKEY, never committed). A caller
    /// presenting it acts as the operator: creates accounts when registration is gated, credits any account.
    /// </summary>
    public string? OperatorKey { get; set; }

    /// <summary>Production: only the operator creates accounts. Local default: anyone may.</summary>
    public bool RegistrationRequiresOperator { get; set; }

    /// <summary>Requests per second per key (or per address without one), and the burst allowed above it.</summary>
    public int RequestsPerSecond { get; set; } = 50;

    public int RequestBurst { get; set; } = 100;
}
