using Microsoft.Extensions.Logging;

namespace Huginn.Silo.Storage;

/// <summary>Runs <see cref="PostgresMigrator"/> as the silo's first start-up step, before any ADO.NET provider reads the schema.</summary>
internal sealed class MigrationsParticipant(PostgresStorageOptions options, ILogger<PostgresMigrator> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(MigrationsParticipant), ServiceLifecycleStage.First,
            cancellationToken => new PostgresMigrator(options.ConnectionString, logger).MigrateAsync(cancellationToken));
}
