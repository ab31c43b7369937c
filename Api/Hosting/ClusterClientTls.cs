using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace Huginn.Api.Hosting;

/// <summary>
/// The Api's side of the silos' mutual TLS (<c>Huginn:Tls</c>, docs/OPERATIONS.md): the same certificate settings as
/// the silo's (Silo/Hosting/HuginnSiloSecurity.cs, which the Api does not reference: it is a client, not a silo).
/// </summary>
public static class ClusterClientTls
{
    public static IClientBuilder UseHuginnTls(this IClientBuilder client, IConfiguration configuration)
    {
        var section = configuration.GetSection("Huginn:Tls");
        if (section["CertificatePath"] is not { Length: > 0 } path) return client;
        if (!File.Exists(path)) throw new InvalidOperationException($"Huginn:Tls:CertificatePath: no file at {path}");
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, section["CertificatePassword"]);
        var ca = section["CaCertificatePath"] is { Length: > 0 } caPath ? X509CertificateLoader.LoadCertificateFromFile(caPath) : null;
        return client.UseTls(certificate, options =>
        {
            options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            // Gateways are reached by IP: a peer is known by its chain to the pool's CA, not by the name in its certificate.
            if (ca is not null) options.RemoteCertificateValidation = (remote, _, _) => IssuedBy(remote, ca);
        });
    }

    private static bool IssuedBy(X509Certificate2 certificate, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
