using Npgsql;
using Tollgate.Gateway.Responses;

namespace Tollgate.Ledger.Postgres;

/// <summary>Responses' owners shared by every replica (<see cref="IResponseOwners"/>; table <c>response_owners</c>).</summary>
public sealed class PostgresResponseOwners(NpgsqlDataSource source) : IResponseOwners
{
    /// <summary>The schema is the migrations' (<see cref="PostgresMigrations"/>), applied with the ledger's.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresMigrations.ApplyAsync(source, cancellationToken);

    public async Task SaveAsync(string responseId, string deployment, string caller, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            INSERT INTO response_owners (id, deployment, caller, created_ms) VALUES ($1, $2, $3, $4)
            ON CONFLICT (id) DO UPDATE SET deployment = excluded.deployment, caller = excluded.caller, created_ms = excluded.created_ms
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = responseId });
        command.Parameters.Add(new NpgsqlParameter { Value = deployment });
        command.Parameters.Add(new NpgsqlParameter { Value = caller });
        command.Parameters.Add(new NpgsqlParameter { Value = createdAt.ToUnixTimeMilliseconds() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<(string Deployment, string Caller)?> FindAsync(string responseId, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT deployment, caller FROM response_owners WHERE id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = responseId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.GetString(1)) : null;
    }
}
