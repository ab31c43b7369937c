using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Jobs;

namespace Huginn.Grains.Rules;

/// <summary>
/// The slashing rule: what a verdict or a lost lease does to a device's record, and what an invalid verdict costs.
/// Pure; the device grain applies the effects (record, forfeit through the owner's account, ban).
/// <list type="bullet">
/// <item>Record: verified, invalid, unaudited and disputed verdicts are counted; an invalid one resets the
/// verified-since-invalid count, so trust (and the audit rate, <see cref="AuditPolicy"/>) is rebuilt from zero.
/// Leases that expire or are lost with the device count as expired. Reliability (routing) weighs an invalid
/// verdict five times.</item>
/// <item>Invalid verdict: not paid (see <see cref="Payment"/>), and all of the device's pending pay is forfeited
/// to <c>pool:slashed</c> (retroactive slashing: pay for unaudited work waits in pending for the holding period,
/// so a sleeper loses everything it earned in that time).</item>
/// <item>Ban: after <see cref="PoolOptions.BanAfterInvalidVerdicts"/> invalid verdicts, for good; its leases go
/// back and whatever is still pending is forfeited.</item>
/// <item>A malformed result (wrong size, non-finite values) is wrong on its face: it counts as an invalid verdict
/// without needing a second device.</item>
/// </list>
/// </summary>
public static class Slashing
{
    /// <summary>The device's record after one verdict.</summary>
    public static DeviceRecord Apply(DeviceRecord record, Verdict verdict) => verdict switch
    {
        Verdict.Verified => record with { Verified = record.Verified + 1, VerifiedSinceInvalid = record.VerifiedSinceInvalid + 1 },
        Verdict.Invalid => record with { Invalid = record.Invalid + 1, VerifiedSinceInvalid = 0 },
        Verdict.Unaudited => record with { Unaudited = record.Unaudited + 1 },
        Verdict.Disputed => record with { Disputed = record.Disputed + 1 },
        _ => record,
    };

    /// <summary>The device's record after it lost leases by expiry or by going away.</summary>
    public static DeviceRecord LeasesLost(DeviceRecord record, int leases) =>
        leases <= 0 ? record : record with { Expired = record.Expired + leases };

    /// <summary>The device's record after it gave a lease back unfinished.</summary>
    public static DeviceRecord LeaseReleased(DeviceRecord record) => record with { Released = record.Released + 1 };

    /// <summary>What a verdict, already applied to <paramref name="after"/>, costs the device.</summary>
    public static SlashingEffects Consequences(string deviceId, DeviceRecord after, Verdict verdict, bool banned, PoolOptions options)
    {
        if (verdict != Verdict.Invalid) return SlashingEffects.None;
        return new SlashingEffects(
            ForfeitTransferId: $"forfeit:{deviceId}:{after.Invalid}",
            Ban: !banned && after.Invalid >= options.BanAfterInvalidVerdicts);
    }

    /// <summary>The forfeit a ban makes of everything still pending, whatever it was earned on.</summary>
    public static string BanForfeitTransferId(string deviceId) => $"forfeit:{deviceId}:ban";
}

/// <summary>What a verdict costs a device: a forfeit of its pending pay (by this transfer id) and whether it is banned.</summary>
public sealed record SlashingEffects(string? ForfeitTransferId, bool Ban)
{
    public static SlashingEffects None { get; } = new(null, false);
}
