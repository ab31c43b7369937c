namespace Huginn.Worker.Agent;

/// <summary>How the worker was started: flags first, then HUGINN_* environment variables.</summary>
public sealed record WorkerOptions
{
    public required Uri Api { get; init; }
    public string? DeviceToken { get; init; }
    /// <summary>With <see cref="Register"/>: the contributor's account key, used once to create this device.</summary>
    public string? ApiKey { get; init; }
    public bool Register { get; init; }
    /// <summary>Print the device token at registration. Off by default: terminals and their logs outlive the secret's owner.</summary>
    public bool ShowToken { get; init; }
    /// <summary>Where the token is kept (owner-only file): written at registration, read at start when no --token is given.</summary>
    public string? TokenFile { get; init; }
    public string Name { get; init; } = Environment.MachineName;
    public int? Threads { get; init; }
    /// <summary>
    /// Leases the worker holds at once (the capabilities' slots). It still runs one shard at a time: the others wait
    /// in its queue, so that the next shard is already here when one finishes instead of a dispatch round trip
    /// later. Routing shares a device's GFLOP/s among its slots, so lease deadlines allow for the wait.
    /// </summary>
    public int Slots { get; init; } = DefaultSlots;
    /// <summary>TEST ONLY: makes this worker misbehave so that verification can be exercised end to end.</summary>
    public Fault Fault { get; init; } = Fault.None;
    /// <summary>How long Ctrl+C waits for the running shard before giving its lease back.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);
    public long BlobCacheBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>One shard running, one queued (docs/benchmarks/row4-training.md: the gap between shards is a result's trip through the pool).</summary>
    public const int DefaultSlots = 2;
    public const int MaxSlots = 64;
}

/// <summary>Deliberate faults, for tests and demonstrations only. An honest contributor never sets one.</summary>
public enum Fault
{
    None,
    /// <summary>Returns a wrong result (the honest one negated).</summary>
    Wrong,
    /// <summary>Adds 5% relative noise to the honest result.</summary>
    Noisy,
    /// <summary>Returns zeros without computing.</summary>
    Lazy,
    /// <summary>Takes leases and never answers (but keeps heartbeating).</summary>
    Stall,
    /// <summary>Returns the honest result with NaN and infinite values in it, which the edge must refuse on sight.</summary>
    NonFinite,
}
