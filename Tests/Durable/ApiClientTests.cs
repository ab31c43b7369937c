using Huginn.Api.Hosting;
using Huginn.Grains.Interfaces.Ledger;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Huginn.Tests.Durable;

[Trait("Category", "Postgres")]
public sealed class ApiClientTests
{
    [Fact]
    public async Task The_Api_client_finds_the_silo_through_the_membership_table()
    {
        await using var database = await TestDatabase.CreateAsync();
        var clusterId = $"api-{Guid.NewGuid():N}";
        await using var silo = await DurableSilo.StartAsync(database, clusterId);
        await silo.Grains.GetGrain<IAccountGrain>("client:seen-by-api").OpenAsync(AccountKind.Client);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Huginn:Storage"] = "postgres",
            ["ConnectionStrings:Huginn"] = database.ConnectionString,
            ["Huginn:ClusterId"] = clusterId,
        });
        builder.AddHuginnClusterClient();
        using var api = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await api.StartAsync(timeout.Token);
        try
        {
            var account = await api.Services.GetRequiredService<IClusterClient>().GetGrain<IAccountGrain>("client:seen-by-api").GetAsync();
            Assert.True(account.Opened);
            Assert.Equal(AccountKind.Client, account.Kind);
        }
        finally
        {
            await api.StopAsync(CancellationToken.None);
        }
    }
}
