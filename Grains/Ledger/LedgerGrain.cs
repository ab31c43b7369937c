using Huginn.Grains.Interfaces.Ledger;

namespace Huginn.Grains.Ledger;

[GenerateSerializer, Alias("huginn.ledger-state")]
public sealed class LedgerState
{
    [Id(0)] public HashSet<string> Accounts { get; set; } = [];
}

/// <summary>The list of every account, for the audit that proves no HU appeared or vanished.</summary>
public sealed class LedgerGrain(
    [PersistentState("ledger", StorageNames.State)] IPersistentState<LedgerState> state) : Grain, ILedgerGrain
{
    public async Task RegisterAsync(string accountId)
    {
        if (state.State.Accounts.Add(accountId)) await state.WriteStateAsync();
    }

    public async Task<LedgerAudit> AuditAsync()
    {
        var holdings = new Dictionary<string, long>();
        long minted = 0, held = 0;
        foreach (var accountId in state.State.Accounts.Order(StringComparer.Ordinal))
        {
            var account = GrainFactory.GetGrain<IAccountGrain>(accountId);
            var view = await account.GetAsync();
            // A transfer the receiver already credited is counted there, not also in the sender's outbox.
            var inFlightCountedTwice = 0L;
            foreach (var transfer in view.InFlight)
            {
                if (await GrainFactory.GetGrain<IAccountGrain>(transfer.To).HasReceivedAsync(transfer.TransferId))
                    inFlightCountedTwice += transfer.AmountMicroHu;
            }
            var holding = view.HoldingsMicroHu - inFlightCountedTwice;
            if (accountId == SystemAccounts.Mint) minted = -holding;
            else held += holding;
            holdings[accountId] = holding;
        }
        return new LedgerAudit(minted, held, holdings.Count, holdings);
    }
}
