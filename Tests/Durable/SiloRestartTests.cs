using Huginn.Grains.Interfaces.Devices;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Workloads;

namespace Huginn.Tests.Durable;

[Trait("Category", "Postgres")]
public sealed class SiloRestartTests
{
    [Fact]
    public async Task Balance_and_device_registration_survive_a_full_silo_restart()
    {
        await using var database = await TestDatabase.CreateAsync();
        var clusterId = $"restart-{Guid.NewGuid():N}";
        const string client = "client:durable";
        const string contributor = "contributor:durable";
        const string deviceId = "device:durable";

        await using (var silo = await DurableSilo.StartAsync(database, clusterId))
        {
            await silo.Grains.GetGrain<IAccountGrain>(client).OpenAsync(AccountKind.Client);
            var minted = await silo.Grains.GetGrain<IAccountGrain>(SystemAccounts.Mint).TransferAsync(new Transfer
            {
                TransferId = $"mint:{client}",
                From = SystemAccounts.Mint,
                To = client,
                AmountMicroHu = MicroHu.FromHu(12.5m),
                Kind = TransferKind.Mint,
            });
            Assert.Equal(TransferOutcome.Applied, minted);

            await silo.Grains.GetGrain<IAccountGrain>(contributor).OpenAsync(AccountKind.Contributor);
            var registered = await silo.Grains.GetGrain<IDeviceGrain>(deviceId).RegisterAsync(new DeviceRegistration(
                contributor, "basement-3090", new DeviceCapabilities
                {
                    Kind = DeviceKind.Gpu, Gflops = 35_000, MemoryMb = 65_536, VramMb = 24_576,
                    Runtimes = ["torch"], Slots = 2, CpuCores = 16,
                }));
            Assert.True(registered.Succeeded, string.Join("; ", registered.Errors));
        }

        await using (var silo = await DurableSilo.StartAsync(database, clusterId))
        {
            var account = await silo.Grains.GetGrain<IAccountGrain>(client).GetAsync();
            Assert.True(account.Opened);
            Assert.Equal(AccountKind.Client, account.Kind);
            Assert.Equal(MicroHu.FromHu(12.5m), account.AvailableMicroHu);
            Assert.Equal(0, account.InFlightMicroHu);

            var replayed = await silo.Grains.GetGrain<IAccountGrain>(SystemAccounts.Mint).TransferAsync(new Transfer
            {
                TransferId = $"mint:{client}",
                From = SystemAccounts.Mint,
                To = client,
                AmountMicroHu = MicroHu.FromHu(12.5m),
                Kind = TransferKind.Mint,
            });
            Assert.Equal(TransferOutcome.Duplicate, replayed);

            var device = await silo.Grains.GetGrain<IDeviceGrain>(deviceId).GetAsync();
            Assert.NotNull(device);
            Assert.Equal("basement-3090", device.Name);
            Assert.Equal(contributor, device.OwnerAccountId);
            Assert.Equal(DeviceKind.Gpu, device.Capabilities.Kind);
            Assert.Equal(24_576, device.Capabilities.VramMb);
            Assert.Equal(2, device.Capabilities.Slots);
        }

        // Both silos wrote to the database: the rows are there, not in some silo's memory.
        Assert.Equal(["2"], await database.QueryAsync(
            "SELECT count(DISTINCT generation) FROM orleans_membership"));
        Assert.Contains("True", await database.QueryAsync(
            "SELECT count(*) > 0 FROM huginn_grain_state WHERE grain_id = 'device:durable'"));
    }
}
