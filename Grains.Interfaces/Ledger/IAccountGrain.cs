using Orleans.Concurrency;

namespace Huginn.Grains.Interfaces.Ledger;

/// <summary>One account of the HU ledger. Key: the account id.</summary>
[Alias("huginn.IAccountGrain")]
public interface IAccountGrain : IGrainWithStringKey
{
    /// <summary>Creates the account with its kind; harmless when it exists with the same kind.</summary>
    [Alias("open")]
    Task<AccountView> OpenAsync(AccountKind kind);

    /// <summary>
    /// Debits this account and credits the receiver, applying the transfer at most once by its id.
    /// Funds leave only if available (the mint alone may go negative); delivery is retried until confirmed.
    /// </summary>
    [Alias("transfer")]
    Task<TransferOutcome> TransferAsync(Transfer transfer);

    /// <summary>
    /// <see cref="TransferAsync"/> for several transfers from this account at once: one write for all of them, and
    /// the receivers credited side by side. A job settling a batch of shards pays through this. Outcomes in order.
    /// </summary>
    [Alias("transfer-many")]
    Task<TransferOutcome[]> TransferManyAsync(IReadOnlyList<Transfer> transfers);

    /// <summary>Credits an incoming transfer at most once by its id (called by the sending account).</summary>
    [Alias("receive")]
    Task<TransferOutcome> ReceiveAsync(Transfer transfer);

    /// <summary>Moves every pending (unvested) credit of one device to <paramref name="to"/>; returns the amount.</summary>
    [Alias("forfeit-pending")]
    Task<long> ForfeitPendingAsync(string deviceId, string transferId, string to);

    /// <summary>Current balances; pending credits past their vesting time count as available. Interleaves: the ledger audit reads accounts that may be mid-transfer.</summary>
    [AlwaysInterleave, Alias("get")]
    Task<AccountView> GetAsync();

    /// <summary>Whether a transfer with this id has been credited here (the audit uses it to count in-flight money once).</summary>
    [AlwaysInterleave, Alias("has-received")]
    Task<bool> HasReceivedAsync(string transferId);
}
