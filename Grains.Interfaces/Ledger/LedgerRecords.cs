namespace Huginn.Grains.Interfaces.Ledger;

[GenerateSerializer, Alias("huginn.account-kind")]
public enum AccountKind
{
    Client = 0,
    Contributor = 1,
    /// <summary>Holds one job's budget between submission and settlement.</summary>
    Escrow = 2,
    /// <summary>The pool's own accounts: fees, forfeited earnings, and the mint.</summary>
    System = 3,
}

[GenerateSerializer, Alias("huginn.transfer-kind")]
public enum TransferKind
{
    Mint = 0,
    Escrow = 1,
    ShardPayment = 2,
    Refund = 3,
    Fee = 4,
    Forfeit = 5,
}

/// <summary>
/// One movement of micro-HU. The id makes it apply at most once, however often it is retried;
/// ids are derived from what caused the transfer (job, shard, device), never random on retry.
/// </summary>
[GenerateSerializer, Immutable, Alias("huginn.transfer")]
public sealed record Transfer
{
    [Id(0)] public required string TransferId { get; init; }
    [Id(1)] public required string From { get; init; }
    [Id(2)] public required string To { get; init; }
    [Id(3)] public required long AmountMicroHu { get; init; }
    [Id(4)] public required TransferKind Kind { get; init; }
    /// <summary>When set, the credit stays pending (forfeitable) until this time.</summary>
    [Id(5)] public DateTimeOffset? VestsAt { get; init; }
    /// <summary>The device whose work this pays, so earnings and forfeits are tracked per device.</summary>
    [Id(6)] public string? DeviceId { get; init; }
    [Id(7)] public string? JobId { get; init; }
}

[GenerateSerializer, Alias("huginn.transfer-outcome")]
public enum TransferOutcome
{
    Applied = 0,
    /// <summary>Already applied earlier under the same id; nothing moved this time.</summary>
    Duplicate = 1,
    InsufficientFunds = 2,
    Invalid = 3,
}

/// <summary>Balances of one account. Every amount is in micro-HU.</summary>
[GenerateSerializer, Immutable, Alias("huginn.account-view")]
public sealed record AccountView
{
    [Id(0)] public required string AccountId { get; init; }
    [Id(1)] public required AccountKind Kind { get; init; }
    /// <summary>Spendable (clients) or vested (contributors).</summary>
    [Id(2)] public required long AvailableMicroHu { get; init; }
    /// <summary>Earned for unaudited work, forfeitable until it vests.</summary>
    [Id(3)] public required long PendingMicroHu { get; init; }
    /// <summary>Debited here, not yet confirmed by the receiving account.</summary>
    [Id(4)] public required long InFlightMicroHu { get; init; }
    /// <summary>Everything ever credited for work, vested or not, forfeits excluded.</summary>
    [Id(5)] public required long EarnedMicroHu { get; init; }
    [Id(6)] public required IReadOnlyDictionary<string, DeviceEarnings> Devices { get; init; }
    /// <summary>The transfers behind <see cref="InFlightMicroHu"/>.</summary>
    [Id(7)] public IReadOnlyList<Transfer> InFlight { get; init; } = [];
    /// <summary>Escrow accounts of the jobs this account paid for.</summary>
    [Id(8)] public IReadOnlyList<string> FundedEscrows { get; init; } = [];
    /// <summary>False for an id nobody ever opened or paid.</summary>
    [Id(9)] public bool Opened { get; init; }

    /// <summary>What this account holds in the ledger's sum: available + pending + in flight.</summary>
    public long HoldingsMicroHu => AvailableMicroHu + PendingMicroHu + InFlightMicroHu;
}

[GenerateSerializer, Immutable, Alias("huginn.device-earnings")]
public sealed record DeviceEarnings(
    [property: Id(0)] long EarnedMicroHu,
    [property: Id(1)] long PendingMicroHu,
    [property: Id(2)] long ForfeitedMicroHu);

/// <summary>The result of summing every account: the pool's money is all accounted for when Balanced.</summary>
[GenerateSerializer, Immutable, Alias("huginn.ledger-audit")]
public sealed record LedgerAudit(
    [property: Id(0)] long MintedMicroHu,
    [property: Id(1)] long HeldMicroHu,
    [property: Id(2)] int Accounts,
    [property: Id(3)] IReadOnlyDictionary<string, long> HoldingsByAccount)
{
    public bool Balanced => MintedMicroHu == HeldMicroHu;
}

/// <summary>Ids of the pool's own accounts.</summary>
public static class SystemAccounts
{
    /// <summary>Source of all HU; its balance is minus what was ever minted.</summary>
    public const string Mint = "pool:mint";
    public const string Fees = "pool:fees";
    /// <summary>Where forfeited earnings of cheaters go.</summary>
    public const string Slashed = "pool:slashed";

    public static string Escrow(string jobId) => $"escrow:{jobId}";
}
