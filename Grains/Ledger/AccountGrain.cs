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

    public async Task<TransferOutcome> TransferAsync(Transfer transfer) => (await TransferManyAsync([transfer]))[0];

    public async Task<TransferOutcome[]> TransferManyAsync(IReadOnlyList<Transfer> transfers)
    {
        if (AccountId == SystemAccounts.Mint) await EnsureOpenAsync(AccountKind.System);
        VestDue();
        var outcomes = transfers.Select(Debit).ToArray();
        if (outcomes.Contains(TransferOutcome.Applied)) await state.WriteStateAsync();
        // A duplicate may be the retry of a transfer whose delivery was interrupted: deliver what is still owed.
        if (S.Outbox.Count > 0) await DeliverOutboxAsync();
        return outcomes;
    }

    /// <summary>The sender's half of a transfer, in memory: checked, debited, recorded once by id and queued for delivery.</summary>
    private TransferOutcome Debit(Transfer transfer)
    {
        if (transfer.From != AccountId || transfer.AmountMicroHu < 0 || transfer.To == AccountId) return TransferOutcome.Invalid;
        if (S.Applied.Contains(transfer.TransferId)) return TransferOutcome.Duplicate;
        if (!S.Opened) return TransferOutcome.InsufficientFunds;
        var mayGoNegative = AccountId == SystemAccounts.Mint;
        if (!mayGoNegative && S.Available < transfer.AmountMicroHu) return TransferOutcome.InsufficientFunds;

        S.Available -= transfer.AmountMicroHu;
        if (transfer.Kind == TransferKind.Escrow) S.FundedEscrows.Add(transfer.To);
        S.Applied.Add(transfer.TransferId);
        S.Outbox[transfer.TransferId] = transfer;
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
        Telemetry.PoolMeters.TransferReceived(transfer);
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

    /// <summary>
    /// Credits every receiver in the outbox: receivers side by side, each one's transfers in order. What could not
    /// be delivered stays in the outbox for the next operation or activation.
    /// </summary>
    private async Task DeliverOutboxAsync()
    {
        var byReceiver = S.Outbox.Values.GroupBy(t => t.To).ToList();
        var delivered = await Task.WhenAll(byReceiver.Select(g => DeliverToAsync(g.Key, g.ToList())));
        foreach (var transferId in delivered.SelectMany(ids => ids)) S.Outbox.Remove(transferId);
        await state.WriteStateAsync();
    }

    private async Task<List<string>> DeliverToAsync(string receiver, List<Transfer> transfers)
    {
        var delivered = new List<string>();
        foreach (var transfer in transfers)
        {
            try
            {
                var outcome = await GrainFactory.GetGrain<IAccountGrain>(receiver).ReceiveAsync(transfer);
                if (outcome is TransferOutcome.Applied or TransferOutcome.Duplicate) delivered.Add(transfer.TransferId);
                else logger.LogError("Transfer {TransferId} refused by {To}: {Outcome}", transfer.TransferId, transfer.To, outcome);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Delivery of transfer {TransferId} to {To} failed; will retry", transfer.TransferId, transfer.To);
                break;
            }
        }
        return delivered;
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
