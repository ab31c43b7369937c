namespace Huginn.Grains.Interfaces.Ledger;

/// <summary>
/// Knows every account so that the whole ledger can be audited. Called once per new account, never per transfer.
/// Key: <see cref="Key"/>.
/// </summary>
[Alias("huginn.ILedgerGrain")]
public interface ILedgerGrain : IGrainWithStringKey
{
    public const string Key = "ledger";

    /// <summary>Adds an account to the audit list (idempotent).</summary>
    [Alias("register")]
    Task RegisterAsync(string accountId);

    /// <summary>Sums every account's holdings, counting money in flight once, and compares with what was minted.</summary>
    [Alias("audit")]
    Task<LedgerAudit> AuditAsync();
}
