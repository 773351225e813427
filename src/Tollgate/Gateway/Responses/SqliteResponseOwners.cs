using Microsoft.Data.Sqlite;

namespace Tollgate.Gateway.Responses;

/// <summary>
/// Which deployment made each Responses API response and for which caller, so that a later <c>GET</c>, <c>DELETE</c>,
/// <c>cancel</c> or <c>input_items</c> on its id reaches the provider that holds it — and only for the caller that made
/// it. Kept in the gateway's SQLite file: it survives a restart (providers keep responses for days).
/// </summary>
public sealed class SqliteResponseOwners(string databasePath)
{
    private readonly Ledger.Sqlite.SqliteDatabase _database = new(databasePath);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE IF NOT EXISTS response_owners (id TEXT PRIMARY KEY, deployment TEXT NOT NULL, caller TEXT NOT NULL, created_ms INTEGER NOT NULL)";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task SaveAsync(string responseId, string deployment, string caller, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR REPLACE INTO response_owners (id, deployment, caller, created_ms) VALUES ($id, $deployment, $caller, $created)";
        command.Parameters.AddWithValue("$id", responseId);
        command.Parameters.AddWithValue("$deployment", deployment);
        command.Parameters.AddWithValue("$caller", caller);
        command.Parameters.AddWithValue("$created", createdAt.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The deployment and caller of a response id, or null when this gateway did not make it.</summary>
    public async Task<(string Deployment, string Caller)?> FindAsync(string responseId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT deployment, caller FROM response_owners WHERE id = $id";
        command.Parameters.AddWithValue("$id", responseId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.GetString(1)) : null;
    }
}
