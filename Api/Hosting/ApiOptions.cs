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

    /// <summary>
    /// A worker socket that sends no frame for this long is closed (1008): workers heartbeat every
    /// <see cref="HeartbeatInterval"/>, so only a stalled or silent peer gets there.
    /// </summary>
    public TimeSpan WorkerIdleTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>A frame begun on a worker socket must end within this (a 64 MiB frame at ~0.6 MB/s); else 1008.</summary>
    public TimeSpan FrameReadTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Devices one contributor may register; beyond it registration is refused (429, "quota exceeded").</summary>
    public int MaxDevicesPerOwner { get; set; } = 256;

    /// <summary>Worker sockets of one owner open at once on one Api instance; beyond it 429 (or 1008 after a hello).</summary>
    public int MaxSocketsPerOwner { get; set; } = 256;

    /// <summary>Failed authentications (an unknown key or token, a wrong operator key) one client address may make in a burst…</summary>
    public int FailedAuthBurst { get; set; } = 30;

    /// <summary>…and per minute after it; beyond them every authentication from that address is answered 429 with Retry-After.</summary>
    public int FailedAuthPerMinute { get; set; } = 30;

    /// <summary>Bytes of blobs one account may hold (its uploads); beyond it uploads are refused (429, "quota exceeded").</summary>
    public long BlobBytesPerAccount { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>
    /// The folder of the contributor page's bundle (web/dist, built by <c>npm run build</c> in web/), served at /contribute;
    /// relative to the content root. Unset: web/dist found above the app.
    /// </summary>
    public string? WebRoot { get; set; }

    /// <summary>
    /// Tests only: lets the contributor page honour <c>?testFault=wrong</c>, which corrupts its results (the end-to-end
    /// test's cheater). Never on in a deployment.
    /// </summary>
    public bool TestFaults { get; set; }
}
