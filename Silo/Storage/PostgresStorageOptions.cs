using Microsoft.Extensions.Configuration;

namespace Huginn.Silo.Storage;

/// <summary>Where the durable mode keeps its state: one PostgreSQL database for membership, grain state, reminders and streams.</summary>
public sealed record PostgresStorageOptions(string ConnectionString)
{
    /// <summary>ADO.NET invariant name under which Orleans finds Npgsql.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>Name of the connection string: <c>ConnectionStrings:Huginn</c>, or <c>ConnectionStrings__Huginn</c> in the environment.</summary>
    public const string ConnectionStringName = "Huginn";

    /// <summary>The connection string from configuration; fails with what to set when it is missing.</summary>
    public static PostgresStorageOptions From(IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                $"Huginn:Storage=postgres needs a connection string: set ConnectionStrings:{ConnectionStringName} " +
                $"(environment: ConnectionStrings__{ConnectionStringName}), e.g. from scripts/postgres.sh.");
        return new PostgresStorageOptions(connectionString);
    }
}
