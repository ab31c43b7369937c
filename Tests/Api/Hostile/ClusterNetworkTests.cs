using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Huginn.Api.Hosting;
using Huginn.Demo;
using Huginn.Grains.Interfaces.Ledger;
using Huginn.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Huginn.Tests.Api.Hostile;

/// <summary>Issue 12, finding 11: a silo refuses ports in use, and with TLS configured only holders of a pool certificate reach it.</summary>
[Trait("Category", "Edge")]
public sealed class ClusterNetworkTests
{
    private static Dictionary<string, string?> Ports() => new()
    {
        [HuginnSiloExtensions.SiloPortKey] = LocalPool.FreePort().ToString(),
        [HuginnSiloExtensions.GatewayPortKey] = LocalPool.FreePort().ToString(),
    };

    private static IHost Silo(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            silo.UseHuginnClustering(builder.Configuration);
            silo.AddHuginnSilo(builder.Configuration);
        });
        return builder.Build();
    }

    private static IHost Client(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.AddHuginnClusterClient();
        return builder.Build();
    }

    private static string Messages(Exception ex) => ex.InnerException is null ? ex.Message : $"{ex.Message} | {Messages(ex.InnerException)}";

    [Fact]
    public async Task A_second_silo_on_ports_in_use_refuses_to_start_naming_the_port_setting()
    {
        var ports = Ports();
        using var first = Silo(ports);
        await first.StartAsync();
        using var second = Silo(ports);

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => second.StartAsync());

        Assert.Contains($"is in use", Messages(refused));
        Assert.Contains(HuginnSiloExtensions.SiloPortKey, Messages(refused));
        await first.StopAsync();
    }

    [Fact]
    public async Task With_tls_a_client_with_a_pool_certificate_calls_grains_and_one_without_tls_cannot()
    {
        var folder = Directory.CreateTempSubdirectory("huginn-tls-");
        try
        {
            var (certificate, ca) = IssueCertificates(folder.FullName);
            var settings = Ports();
            settings["Huginn:Tls:CertificatePath"] = certificate;
            settings["Huginn:Tls:CertificatePassword"] = "test";
            settings["Huginn:Tls:CaCertificatePath"] = ca;
            using var silo = Silo(settings);
            await silo.StartAsync();

            using var client = Client(settings);
            await client.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
            var audit = await client.Services.GetRequiredService<IClusterClient>().GetGrain<ILedgerGrain>(ILedgerGrain.Key).AuditAsync();
            Assert.True(audit.Balanced);
            await client.StopAsync();

            var plain = new Dictionary<string, string?>(settings.Where(s => !s.Key.StartsWith("Huginn:Tls", StringComparison.Ordinal)));
            using var intruder = Client(plain);
            // Refused at the TLS handshake; the client retries its gateway, so the bound is a timeout, never a successful call.
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await intruder.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
                await intruder.Services.GetRequiredService<IClusterClient>().GetGrain<ILedgerGrain>(ILedgerGrain.Key).AuditAsync().WaitAsync(TimeSpan.FromSeconds(5));
            });
            await silo.StopAsync();
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>A private CA and one certificate it issued (for silos and Api alike), as OPERATIONS.md describes.</summary>
    private static (string CertificatePath, string CaPath) IssueCertificates(string folder)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=huginn-test-ca", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));

        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=huginn-node", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var issued = request.Create(ca, now.AddDays(-1), now.AddHours(23), RandomNumberGenerator.GetBytes(8));
        using var withKey = issued.CopyWithPrivateKey(key);

        var certificatePath = Path.Combine(folder, "node.pfx");
        var caPath = Path.Combine(folder, "ca.cer");
        File.WriteAllBytes(certificatePath, withKey.Export(X509ContentType.Pkcs12, "test"));
        File.WriteAllBytes(caPath, ca.Export(X509ContentType.Cert));
        return (certificatePath, caPath);
    }
}
