using Microsoft.Data.Sqlite;
using Tollgate.Gateway.Responses;

namespace Tollgate.Ledger.Sqlite;

/// <summary>Responses' owners in the gateway's SQLite file (one gateway; see <see cref="IResponseOwners"/>).</summary>
public sealed class SqliteResponseOwners(string databasePath) : IResponseOwners
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
