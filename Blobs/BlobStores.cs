using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Huginn.Blobs;

/// <summary>Which blob store a process opens: one switch, <c>Huginn:Blobs:Store</c>, read alike by silo and Api.</summary>
public static class BlobStores
{
    public const string Memory = "memory";
    public const string Directory = "directory";
    public const string Postgres = "postgres";

    public const string StoreKey = BlobStoreOptions.Section + ":Store";

    /// <summary>
    /// The store configuration names; else <c>postgres</c> when <c>Huginn:Storage=postgres</c>; else
    /// <paramref name="fallback"/>, which the host picks: <see cref="Memory"/> where silo and Api share one process,
    /// <see cref="Directory"/> for a stand-alone silo or Api (they share blobs through a folder).
    /// </summary>
    public static string Select(IConfiguration configuration, string fallback)
    {
        if (configuration[StoreKey] is { Length: > 0 } configured) return configured.ToLowerInvariant();
        return string.Equals(configuration["Huginn:Storage"], Postgres, StringComparison.OrdinalIgnoreCase) ? Postgres : fallback;
    }

    /// <summary>Opens the store configuration picks (see <see cref="Select"/>).</summary>
    public static IBlobStore Create(IConfiguration configuration, string fallback, TimeProvider? time = null)
    {
        var options = new BlobStoreOptions();
        configuration.GetSection(BlobStoreOptions.Section).Bind(options);
        return Select(configuration, fallback) switch
        {
            Memory => new MemoryBlobStore(options, time),
            Directory => new DirectoryBlobStore(options, time),
            Postgres => new PostgresBlobStore(
                configuration.GetConnectionString("Huginn") is { Length: > 0 } connectionString
                    ? connectionString
                    : throw new InvalidOperationException(
                        $"{StoreKey}=postgres needs a connection string: set ConnectionStrings:Huginn (environment: ConnectionStrings__Huginn)."),
                options, time),
            var other => throw new InvalidOperationException(
                $"{StoreKey}='{other}' is not a blob store; use '{Memory}', '{Directory}' or '{Postgres}'."),
        };
    }

    /// <summary>
    /// Registers this process's one <see cref="IBlobStore"/> and <see cref="BlobStoreOptions"/>. The first registration
    /// wins: a silo and an Api in one process (each calls this) share one store, and a host or test that registered
    /// its own store keeps it.
    /// </summary>
    public static IServiceCollection AddHuginnBlobStore(this IServiceCollection services, IConfiguration configuration, string fallback = Memory)
    {
        services.AddOptions<BlobStoreOptions>().Bind(configuration.GetSection(BlobStoreOptions.Section));
        if (services.Any(d => d.ServiceType == typeof(IBlobStore))) return services;
        services.AddSingleton(sp => Create(configuration, fallback, sp.GetService<TimeProvider>()));
        return services;
    }
}
