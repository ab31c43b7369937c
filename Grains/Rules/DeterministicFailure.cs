using Huginn.Workloads;

namespace Huginn.Grains.Rules;

/// <summary>
/// The fail-fast rule: a shard that devices of <see cref="OwnersToConclude"/> different owners gave back with the same
/// deterministic error code (<see cref="ShardErrorCodes.IsDeterministic"/>: one that depends only on the spec and its
/// inputs, such as a label outside the model's classes) would fail the same way on every device, so the job fails at
/// once with that code and the worker's words instead of burning a lease on device after device (issue 13, finding 5:
/// "failed on 8 leases … no device could run it").
/// It takes two owners, never one owner's many devices: a contributor must not be able to fail someone's job by
/// claiming their data is bad (docs/PROTOCOL.md, "Error codes"). Codes that depend on the device (out of memory, a
/// download that failed) never conclude anything; they only send the shard elsewhere.
/// </summary>
public static class DeterministicFailure
{
    /// <summary>Distinct owners that must report the same deterministic code. Not a setting: one would let a single contributor fail any job.</summary>
    public const int OwnersToConclude = 2;

    /// <summary>
    /// Records that a device of <paramref name="ownerAccountId"/> gave the shard back with <paramref name="code"/>, in
    /// <paramref name="ownersByCode"/> (the shard's deterministic codes and the owners that reported each). True when
    /// this report makes the failure conclusive: the job should fail now.
    /// </summary>
    public static bool Record(Dictionary<string, HashSet<string>> ownersByCode, string ownerAccountId, string? code)
    {
        ArgumentNullException.ThrowIfNull(ownersByCode);
        if (code is null || !ShardErrorCodes.IsDeterministic(code)) return false;
        if (!ownersByCode.TryGetValue(code, out var owners)) ownersByCode[code] = owners = new HashSet<string>(StringComparer.Ordinal);
        owners.Add(ownerAccountId);
        return owners.Count >= OwnersToConclude;
    }

    /// <summary>The deterministic code that owners enough reported, or null.</summary>
    public static string? ConclusiveCode(IReadOnlyDictionary<string, HashSet<string>> ownersByCode) =>
        ownersByCode.Where(c => ShardErrorCodes.IsDeterministic(c.Key) && c.Value.Count >= OwnersToConclude)
            .Select(c => c.Key).Order(StringComparer.Ordinal).FirstOrDefault();

    /// <summary>The job's failure reason: which shard, the code, how many owners saw it, and what the worker said.</summary>
    public static string Reason(int shardIndex, int roundNumber, string code, int owners, string? workerText) =>
        $"{code}: shard {shardIndex} of round {roundNumber} failed the same way on devices of {owners} contributors"
        + (workerText is null ? "" : $": \"{workerText}\"")
        + "; it depends only on the spec and its data, so the job stopped at once";
}
