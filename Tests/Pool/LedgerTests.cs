using Huginn.Grains.Interfaces.Ledger;

namespace Huginn.Tests.Pool;

[Collection(PoolCollection.Name), Trait("Category", "Cluster")]
public sealed class LedgerTests(PoolClusterFixture fixture)
{
    private readonly SimulatedPool _pool = new(fixture);

    [Fact]
    public async Task Transfer_with_the_same_id_applies_at_most_once()
    {
        var client = await _pool.CreateClientAsync(hu: 5);
        var contributor = await _pool.CreateContributorAsync();
        var transfer = new Transfer
        {
            TransferId = $"test:{Guid.NewGuid():N}", From = client, To = contributor, AmountMicroHu = 1_000, Kind = TransferKind.Refund,
        };
        var account = _pool.Grains.GetGrain<IAccountGrain>(client);

        Assert.Equal(TransferOutcome.Applied, await account.TransferAsync(transfer));
        Assert.Equal(TransferOutcome.Duplicate, await account.TransferAsync(transfer));
        Assert.Equal(TransferOutcome.Duplicate, await _pool.Grains.GetGrain<IAccountGrain>(contributor).ReceiveAsync(transfer));

        Assert.Equal(5_000_000 - 1_000, (await _pool.AccountAsync(client)).AvailableMicroHu);
        Assert.Equal(1_000, (await _pool.AccountAsync(contributor)).AvailableMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Overdraft_is_refused_and_moves_nothing()
    {
        var client = await _pool.CreateClientAsync(hu: 1);
        var contributor = await _pool.CreateContributorAsync();

        var outcome = await _pool.Grains.GetGrain<IAccountGrain>(client).TransferAsync(new Transfer
        {
            TransferId = $"test:{Guid.NewGuid():N}", From = client, To = contributor, AmountMicroHu = 1_000_001, Kind = TransferKind.Refund,
        });

        Assert.Equal(TransferOutcome.InsufficientFunds, outcome);
        Assert.Equal(1_000_000, (await _pool.AccountAsync(client)).AvailableMicroHu);
        Assert.Equal(0, (await _pool.AccountAsync(contributor)).HoldingsMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }

    [Fact]
    public async Task Pending_pay_vests_after_the_holding_period_and_cannot_be_forfeited_then()
    {
        var client = await _pool.CreateClientAsync(hu: 1);
        var contributor = await _pool.CreateContributorAsync();
        await _pool.Grains.GetGrain<IAccountGrain>(client).TransferAsync(new Transfer
        {
            TransferId = $"test:{Guid.NewGuid():N}", From = client, To = contributor, AmountMicroHu = 500, Kind = TransferKind.ShardPayment,
            DeviceId = "device-x", VestsAt = fixture.Clock.GetUtcNow() + TimeSpan.FromHours(24),
        });
        Assert.Equal(500, (await _pool.AccountAsync(contributor)).PendingMicroHu);

        fixture.Clock.Advance(TimeSpan.FromHours(25));
        var forfeited = await _pool.Grains.GetGrain<IAccountGrain>(contributor)
            .ForfeitPendingAsync("device-x", $"forfeit:{Guid.NewGuid():N}", SystemAccounts.Slashed);

        Assert.Equal(0, forfeited);
        var account = await _pool.AccountAsync(contributor);
        Assert.Equal(500, account.AvailableMicroHu);
        Assert.Equal(0, account.PendingMicroHu);
        await _pool.AssertLedgerBalancedAsync();
    }
}
