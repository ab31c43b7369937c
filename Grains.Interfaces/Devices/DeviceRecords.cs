namespace Huginn.Grains.Interfaces.Devices;

[GenerateSerializer, Alias("huginn.device-status")]
public enum DeviceStatus
{
    Offline = 0,
    Online = 1,
    Banned = 2,
}

/// <summary>A contributor's request to add a device to the pool.</summary>
[GenerateSerializer, Immutable, Alias("huginn.device-registration")]
public sealed record DeviceRegistration(
    [property: Id(0)] string OwnerAccountId,
    [property: Id(1)] string Name,
    [property: Id(2)] DeviceCapabilities Capabilities);

/// <summary>The device's track record: what verification said about its work.</summary>
[GenerateSerializer, Immutable, Alias("huginn.device-record")]
public sealed record DeviceRecord
{
    /// <summary>Audited shards whose result the majority confirmed.</summary>
    [Id(0)] public int Verified { get; init; }
    /// <summary>Audited shards whose result the majority rejected.</summary>
    [Id(1)] public int Invalid { get; init; }
    /// <summary>Shards accepted without an audit (paid into pending).</summary>
    [Id(2)] public int Unaudited { get; init; }
    /// <summary>Shards with no majority: nobody was paid, nobody was blamed.</summary>
    [Id(3)] public int Disputed { get; init; }
    /// <summary>Leases that ran past their deadline or were lost with the connection.</summary>
    [Id(4)] public int Expired { get; init; }
    /// <summary>Verified audits since the last invalid verdict: trust is rebuilt from zero after a cheat.</summary>
    [Id(5)] public int VerifiedSinceInvalid { get; init; }
    /// <summary>Leases the device gave back unfinished.</summary>
    [Id(6)] public int Released { get; init; }

    /// <summary>
    /// A score in (0, 1]: confirmed work against failures, with invalid verdicts weighing five times and a lease given
    /// back as much as one that expired (the job waited for nothing either way).
    /// </summary>
    public double Reliability => (Verified + 1.0) / (Verified + 5.0 * Invalid + Expired + Released + 1.0 + 0.0001);
}

/// <summary>What an owner (and the pool) sees of a device.</summary>
[GenerateSerializer, Immutable, Alias("huginn.device-view")]
public sealed record DeviceView
{
    [Id(0)] public required string DeviceId { get; init; }
    [Id(1)] public required string Name { get; init; }
    [Id(2)] public required string OwnerAccountId { get; init; }
    [Id(3)] public required DeviceCapabilities Capabilities { get; init; }
    [Id(4)] public required DeviceStatus Status { get; init; }
    [Id(5)] public required string HardwareClass { get; init; }
    [Id(6)] public required DeviceRecord Record { get; init; }
    [Id(7)] public required double Reputation { get; init; }
    [Id(8)] public required double AuditRate { get; init; }
    [Id(9)] public required int OpenLeases { get; init; }
    [Id(10)] public DateTimeOffset? LastHeartbeat { get; init; }
    [Id(11)] public DateTimeOffset? BannedAt { get; init; }
    /// <summary>What its accepted results showed of its speed, against <see cref="DeviceCapabilities.Gflops"/> claimed.</summary>
    [Id(12)] public DeviceSpeed Speed { get; init; } = DeviceSpeed.Unobserved;
    /// <summary>The GFLOP/s routing uses: the claim until observed, then the lower of claim and observation.</summary>
    [Id(13)] public double EffectiveGflops { get; init; }
    /// <summary>Out of routing until then, after giving back too many leases (Rules.ReleaseLimit); null when routable.</summary>
    [Id(14)] public DateTimeOffset? CoolingDownUntil { get; init; }

    public bool Banned => Status == DeviceStatus.Banned;
}

/// <summary>A heartbeat: the device is alive, and which content-addressed blobs it holds (capped list).</summary>
[GenerateSerializer, Immutable, Alias("huginn.device-heartbeat")]
public sealed record DeviceHeartbeat([property: Id(0)] string[] CachedBlobIds)
{
    public static DeviceHeartbeat Empty { get; } = new([]);
}

/// <summary>Outcome of registering a device.</summary>
[GenerateSerializer, Immutable, Alias("huginn.device-registration-result")]
public sealed record DeviceRegistrationResult(
    [property: Id(0)] DeviceView? Device,
    [property: Id(1)] IReadOnlyList<Huginn.Workloads.SpecError> Errors)
{
    public bool Succeeded => Device is not null;
}
