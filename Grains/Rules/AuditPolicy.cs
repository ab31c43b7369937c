using Huginn.Grains.Interfaces.Devices;

namespace Huginn.Grains.Rules;

/// <summary>
/// How often a device's work is re-run elsewhere. A device with no record is audited on every shard;
/// after <see cref="PoolOptions.ProbationAudits"/> confirmed audits the rate falls as probation / verified,
/// down to the floor. An invalid verdict resets trust: the device is audited on every shard again.
/// </summary>
public static class AuditPolicy
{
    public static double Rate(DeviceRecord record, PoolOptions options)
    {
        var probation = Math.Max(1, options.ProbationAudits);
        var trustedAudits = record.Invalid > 0 ? record.VerifiedSinceInvalid : record.Verified;
        if (trustedAudits < probation) return 1.0;
        return Math.Clamp((double)probation / trustedAudits, options.AuditFloor, 1.0);
    }

    /// <summary>A draw in [0, 1) fixed by the shard and the pool's secret salt: reproducible, unpredictable to devices.</summary>
    public static double Draw(string salt, string shardKey)
    {
        var bytes = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{salt}|{shardKey}"));
        return (BitConverter.ToUInt64(bytes, 0) >> 11) * (1.0 / (1UL << 53));
    }
}
