using Microsoft.Extensions.DependencyInjection;
using Huginn.Grains.Interfaces.Ledger;
using Microsoft.Extensions.Logging;

namespace Huginn.Grains.Ledger;

/// <summary>
/// One ledger account. A transfer is applied in two steps, each persisted: the sender debits and records
/// the transfer in its outbox, the receiver credits it once by id, then the sender clears its outbox.
/// Money in between is "in flight" and still counted, once, by the ledger audit.
/// </summary>
public sealed class AccountGrain(
    [PersistentState("account", StorageNames.State)] IPersistentState<AccountState> state,
    [FromKeyedServices(PoolClock.Key)] TimeProvider time,
    ILogger<AccountGrain> logger) : Grain, IAccountGrain
{
    private AccountState S => state.State;
    private string AccountId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Deliveries interrupted by a crash are finished on the next activation.
        if (S.Outbox.Count > 0) await DeliverOutboxAsync();
    }

    public async Task<AccountView> OpenAsync(AccountKind kind)
    {
        if (!S.Opened)
        {
            S.Opened = true;
            S.Kind = kind;
            await state.WriteStateAsync();
            await GrainFactory.GetGrain<ILedgerGrain>(ILedgerGrain.Key).RegisterAsync(AccountId);
        }
        return View();
    }

    public async Task<TransferOutcome> TransferAsync(Transfer transfer)
    {
        if (transfer.From != AccountId || transfer.AmountMicroHu < 0 || transfer.To == AccountId) return TransferOutcome.Invalid;
        if (S.Applied.Contains(transfer.TransferId))
        {
            if (S.Outbox.Count > 0) await DeliverOutboxAsync();
            return TransferOutcome.Duplicate;
        }
        if (AccountId == SystemAccounts.Mint) await EnsureOpenAsync(AccountKind.System);
        if (!S.Opened) return TransferOutcome.InsufficientFunds;
        VestDue();
        var mayGoNegative = AccountId == SystemAccounts.Mint;
        if (!mayGoNegative && S.Available < transfer.AmountMicroHu) return TransferOutcome.InsufficientFunds;

        S.Available -= transfer.AmountMicroHu;
        if (transfer.Kind == TransferKind.Escrow) S.FundedEscrows.Add(transfer.To);
        S.Applied.Add(transfer.TransferId);
        S.Outbox[transfer.TransferId] = transfer;
        await state.WriteStateAsync();
        await DeliverOutboxAsync();
        return TransferOutcome.Applied;
    }

    public async Task<TransferOutcome> ReceiveAsync(Transfer transfer)
    {
        if (transfer.To != AccountId || transfer.AmountMicroHu < 0) return TransferOutcome.Invalid;
        if (!S.Applied.Add(transfer.TransferId)) return TransferOutcome.Duplicate;
        await EnsureOpenAsync(KindReceiving(transfer.Kind), persist: false);

        if (transfer.Kind == TransferKind.ShardPayment && transfer.DeviceId is { } deviceId)
        {
            var earnings = S.Devices.GetValueOrDefault(deviceId) ?? new DeviceEarnings(0, 0, 0);
            S.Devices[deviceId] = earnings with { EarnedMicroHu = earnings.EarnedMicroHu + transfer.AmountMicroHu };
            S.Earned += transfer.AmountMicroHu;
        }
        if (transfer.VestsAt is { } vestsAt && vestsAt > time.GetUtcNow() && transfer.DeviceId is not null)
            S.Pending.Add(new PendingCredit(transfer.TransferId, transfer.DeviceId, transfer.AmountMicroHu, vestsAt));
        else
            S.Available += transfer.AmountMicroHu;
        await state.WriteStateAsync();
        return TransferOutcome.Applied;
    }

    public async Task<long> ForfeitPendingAsync(string deviceId, string transferId, string to)
    {
        VestDue();
        if (S.Applied.Contains(transferId)) return 0;
        var forfeited = S.Pending.Where(p => p.DeviceId == deviceId).ToList();
        var amount = forfeited.Sum(p => p.Amount);
        if (amount == 0) return 0;
        S.Pending.RemoveAll(p => p.DeviceId == deviceId);
        if (S.Devices.TryGetValue(deviceId, out var earnings))
        {
            S.Devices[deviceId] = earnings with
            {
                EarnedMicroHu = earnings.EarnedMicroHu - amount,
                ForfeitedMicroHu = earnings.ForfeitedMicroHu + amount,
            };
        }
        S.Earned -= amount;
        var transfer = new Transfer
        {
            TransferId = transferId, From = AccountId, To = to, AmountMicroHu = amount,
            Kind = TransferKind.Forfeit, DeviceId = deviceId,
        };
        S.Applied.Add(transferId);
        S.Outbox[transferId] = transfer;
        await state.WriteStateAsync();
        await DeliverOutboxAsync();
        return amount;
    }

    public Task<AccountView> GetAsync()
    {
        VestDue();
        return Task.FromResult(View());
    }

    public Task<bool> HasReceivedAsync(string transferId) =>
        Task.FromResult(S.Applied.Contains(transferId) && !S.Outbox.ContainsKey(transferId));

    private async Task EnsureOpenAsync(AccountKind kind, bool persist = true)
    {
        if (S.Opened) return;
        S.Opened = true;
        S.Kind = kind;
        if (persist) await state.WriteStateAsync();
        await GrainFactory.GetGrain<ILedgerGrain>(ILedgerGrain.Key).RegisterAsync(AccountId);
    }

    private static AccountKind KindReceiving(TransferKind kind) => kind switch
    {
        TransferKind.ShardPayment => AccountKind.Contributor,
        TransferKind.Escrow => AccountKind.Escrow,
        TransferKind.Fee or TransferKind.Forfeit => AccountKind.System,
        _ => AccountKind.Client,
    };

    private async Task DeliverOutboxAsync()
    {
        foreach (var transfer in S.Outbox.Values.ToList())
        {
            try
            {
                var outcome = await GrainFactory.GetGrain<IAccountGrain>(transfer.To).ReceiveAsync(transfer);
                if (outcome is TransferOutcome.Applied or TransferOutcome.Duplicate) S.Outbox.Remove(transfer.TransferId);
                else logger.LogError("Transfer {TransferId} refused by {To}: {Outcome}", transfer.TransferId, transfer.To, outcome);
            }
            catch (Exception ex)
            {
                // Stays in the outbox; the next operation or activation delivers it.
                logger.LogWarning(ex, "Delivery of transfer {TransferId} to {To} failed; will retry", transfer.TransferId, transfer.To);
                return;
            }
        }
        await state.WriteStateAsync();
    }

    /// <summary>Pending credits past their holding period become available; totals do not change.</summary>
    private void VestDue()
    {
        var now = time.GetUtcNow();
        if (S.Pending.Count == 0 || S.Pending.All(p => p.VestsAt > now)) return;
        S.Available += S.Pending.Where(p => p.VestsAt <= now).Sum(p => p.Amount);
        S.Pending.RemoveAll(p => p.VestsAt <= now);
    }

    private AccountView View()
    {
        var pendingByDevice = S.Pending.GroupBy(p => p.DeviceId).ToDictionary(g => g.Key, g => g.Sum(p => p.Amount));
        return new AccountView
        {
            AccountId = AccountId,
            Kind = S.Kind,
            AvailableMicroHu = S.Available,
            PendingMicroHu = S.Pending.Sum(p => p.Amount),
            InFlightMicroHu = S.Outbox.Values.Sum(t => t.AmountMicroHu),
            InFlight = S.Outbox.Values.ToArray(),
            FundedEscrows = S.FundedEscrows.ToArray(),
            Opened = S.Opened,
            EarnedMicroHu = S.Earned,
            Devices = S.Devices.ToDictionary(d => d.Key, d => d.Value with { PendingMicroHu = pendingByDevice.GetValueOrDefault(d.Key) }),
        };
    }
}
