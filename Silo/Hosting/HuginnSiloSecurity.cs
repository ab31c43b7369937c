using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace Huginn.Silo.Hosting;

/// <summary>
/// The silo's network rules (issue 12, finding 11): it refuses to start on ports another process holds, listens only on
/// its configured address, and with <c>Huginn:Tls:CertificatePath</c> speaks mutual TLS to other silos and to clients
/// (the Api), so that nobody without a certificate of the pool's CA can call a grain. docs/OPERATIONS.md, "Network".
/// </summary>
public static class HuginnSiloSecurity
{
    public const string TlsSection = "Huginn:Tls";

    /// <summary>Address the silo and gateway listen on (<c>Huginn:ListenIP</c>); default: the advertised address.</summary>
    public const string ListenIpKey = "Huginn:ListenIP";

    public static ISiloBuilder UseHuginnNetworkSecurity(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloPortsCheck>();
        if (ClusterTls.From(configuration) is { } tls) silo.UseTls(tls.Certificate, tls.Configure);
        return silo;
    }

    /// <summary>
    /// Fails the start when another process listens on the silo's or the gateway's port. Orleans binds its listeners
    /// with address reuse, which on Linux includes SO_REUSEPORT: a second silo on the same ports started without an
    /// error and the kernel shared connections between the two. The probe binds with SO_REUSEADDR alone, which a
    /// listener on the port refuses and a closed connection in TIME_WAIT (a silo restarting) does not.
    /// </summary>
    private sealed class SiloPortsCheck(IOptions<EndpointOptions> endpoints) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(SiloPortsCheck), ServiceLifecycleStage.First, _ =>
            {
                var o = endpoints.Value;
                var address = o.AdvertisedIPAddress ?? IPAddress.Loopback;
                Probe(o.SiloListeningEndpoint ?? new IPEndPoint(address, o.SiloPort), HuginnSiloExtensions.SiloPortKey);
                if (o.GatewayPort > 0) Probe(o.GatewayListeningEndpoint ?? new IPEndPoint(address, o.GatewayPort), HuginnSiloExtensions.GatewayPortKey);
                return Task.CompletedTask;
            });

        private static void Probe(IPEndPoint endpoint, string setting)
        {
            using var probe = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (OperatingSystem.IsLinux()) probe.SetRawSocketOption(1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
            try
            {
                probe.Bind(endpoint);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
            {
                throw new InvalidOperationException(
                    $"port {endpoint.Port} on {endpoint.Address} ({setting}) is in use: another silo (or another program) listens there. " +
                    $"Stop it, or give this silo other ports with {HuginnSiloExtensions.SiloPortKey} and {HuginnSiloExtensions.GatewayPortKey}.", ex);
            }
        }
    }
}

/// <summary>
/// Mutual TLS settings from <c>Huginn:Tls</c>: <c>CertificatePath</c> (PKCS#12 with its private key),
/// <c>CertificatePassword</c>, and <c>CaCertificatePath</c> (the pool's private CA; peers must present a certificate
/// it issued). The Api's client reads the same section (Api/Hosting/ClusterClientTls.cs).
/// </summary>
public sealed record ClusterTls(X509Certificate2 Certificate, X509Certificate2? Ca)
{
    public static ClusterTls? From(IConfiguration configuration)
    {
        var section = configuration.GetSection(HuginnSiloSecurity.TlsSection);
        if (section["CertificatePath"] is not { Length: > 0 } path) return null;
        if (!File.Exists(path)) throw new InvalidOperationException($"{HuginnSiloSecurity.TlsSection}:CertificatePath: no file at {path}");
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, section["CertificatePassword"]);
        if (!certificate.HasPrivateKey) throw new InvalidOperationException($"{HuginnSiloSecurity.TlsSection}:CertificatePath: {path} holds no private key");
        var ca = section["CaCertificatePath"] is { Length: > 0 } caPath ? X509CertificateLoader.LoadCertificateFromFile(caPath) : null;
        return new ClusterTls(certificate, ca);
    }

    /// <summary>Both sides present a certificate and require one; with a CA configured, only its certificates pass.</summary>
    public void Configure(TlsOptions options)
    {
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        if (Ca is { } ca) options.RemoteCertificateValidation = (certificate, _, _) => IssuedBy(certificate, ca);
    }

    /// <summary>
    /// Silos reach each other by IP, so the name in a certificate is not what identifies a peer: its chain to the pool's
    /// CA is (the default policy's name and root checks are replaced by that).
    /// </summary>
    public static bool IssuedBy(X509Certificate2 certificate, X509Certificate2 ca)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
