using Huginn.Grains;
using Huginn.Grains.Interfaces.Devices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Huginn.Silo.Hosting;

/// <summary>How a Huginn silo is put together; the silo host and the test cluster both call these.</summary>
public static class HuginnSiloExtensions
{
    public const string StorageKey = "Huginn:Storage";

    /// <summary>Pool rules from configuration, and the storage, streams and reminders the grains need.</summary>
    public static ISiloBuilder AddHuginnSilo(this ISiloBuilder silo, IConfiguration configuration)
    {
        silo.Services.AddOptions<PoolOptions>().Bind(configuration.GetSection(PoolOptions.Section));
        silo.Services.TryAddKeyedSingleton(PoolClock.Key, TimeProvider.System);
        return silo.AddHuginnStorage(configuration);
    }

    /// <summary>
    /// One switch picks where state lives. "memory" (the local default) keeps everything in the silo's memory:
    /// nothing to install, nothing survives a restart.
    /// </summary>
    public static ISiloBuilder AddHuginnStorage(this ISiloBuilder silo, IConfiguration configuration)
    {
        var storage = configuration[StorageKey] ?? "memory";
        switch (storage.ToLowerInvariant())
        {
            case "memory":
                silo.AddMemoryGrainStorage(StorageNames.State);
                silo.AddMemoryGrainStorage(StorageNames.PubSub);
                // Poll often: a device waits on this stream for its next shard.
                silo.AddMemoryStreams(DeviceStreams.Provider, streams => streams.ConfigurePullingAgent(
                    agent => agent.Configure(o => o.GetQueueMsgsTimerPeriod = TimeSpan.FromMilliseconds(20))));
                silo.UseInMemoryReminderService();
                return silo;
            default:
                throw new InvalidOperationException(
                    $"{StorageKey}='{storage}' is not a storage this silo knows; use 'memory' (PostgreSQL support is tracked separately).");
        }
    }
}
