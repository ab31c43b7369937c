using Huginn.Grains.Interfaces.Ledger;

namespace Huginn.Grains.Ledger;

[GenerateSerializer, Alias("huginn.account-state")]
public sealed class AccountState
{
    [Id(0)] public bool Opened { get; set; }
    [Id(1)] public AccountKind Kind { get; set; }
    [Id(2)] public long Available { get; set; }
    [Id(3)] public List<PendingCredit> Pending { get; set; } = [];
    /// <summary>Debited here, delivery to the receiver not yet confirmed; retried until it is.</summary>
    [Id(4)] public Dictionary<string, Transfer> Outbox { get; set; } = [];
    /// <summary>Ids of every transfer applied here, incoming or outgoing: the at-most-once guarantee.</summary>
    [Id(5)] public HashSet<string> Applied { get; set; } = [];
    [Id(6)] public Dictionary<string, DeviceEarnings> Devices { get; set; } = [];
    [Id(7)] public long Earned { get; set; }
    /// <summary>Escrow accounts this account has funded (one per job), so its owner can see what is held there.</summary>
    [Id(8)] public List<string> FundedEscrows { get; set; } = [];
}

/// <summary>Pay for unaudited work: forfeitable until <see cref="VestsAt"/>.</summary>
[GenerateSerializer, Immutable, Alias("huginn.pending-credit")]
public sealed record PendingCredit(
    [property: Id(0)] string TransferId,
    [property: Id(1)] string DeviceId,
    [property: Id(2)] long Amount,
    [property: Id(3)] DateTimeOffset VestsAt);
