using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tollgate.Gateway.Idempotency;

namespace Tollgate.Ledger.Sqlite;

/// <summary>
/// Answers kept for idempotent replay, in the embedded SQLite database beside the ledger, so that a replay works
/// after a restart. One row per caller and key; a row older than the retention is treated as absent and purged.
/// </summary>
public sealed class SqliteIdempotencyStore(string databasePath) : IIdempotencyStore
{
    private readonly Ledger.Sqlite.SqliteDatabase _database = new(databasePath);

    /// <summary>One gateway per SQLite file: the claims in its memory (<see cref="IdempotencyGate"/>) are all there are.</summary>
    public Task<bool> TryClaimAsync(string caller, string key, string holder, DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task ReleaseClaimAsync(string caller, string key, string holder, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS idempotent_responses (
                caller TEXT NOT NULL, key TEXT NOT NULL, fingerprint BLOB NOT NULL, request_id TEXT NOT NULL,
                created_ms INTEGER NOT NULL, status INTEGER NOT NULL, content_type TEXT NOT NULL, headers TEXT NOT NULL, body BLOB NOT NULL,
                PRIMARY KEY (caller, key)
            );
            CREATE INDEX IF NOT EXISTS idempotent_responses_created ON idempotent_responses (created_ms);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The answer kept for <paramref name="caller"/>'s <paramref name="key"/> since <paramref name="notBefore"/>, if any.</summary>
    public async Task<StoredResponse?> FindAsync(string caller, string key, DateTimeOffset notBefore, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT fingerprint, request_id, created_ms, status, content_type, headers, body FROM idempotent_responses
            WHERE caller = $caller AND key = $key AND created_ms >= $since
            """;
        command.Parameters.AddWithValue("$caller", caller);
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$since", notBefore.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(5)) ?? [];
        return new StoredResponse(
            (byte[])reader.GetValue(0),
            reader.GetString(1),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
            reader.GetInt32(3),
            reader.GetString(4),
            [.. headers],
            (byte[])reader.GetValue(6));
    }

    /// <summary>Keeps <paramref name="response"/>; an expired row under the same key is replaced.</summary>
    public async Task SaveAsync(string caller, string key, StoredResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT OR REPLACE INTO idempotent_responses (caller, key, fingerprint, request_id, created_ms, status, content_type, headers, body)
            VALUES ($caller, $key, $fingerprint, $request, $created, $status, $type, $headers, $body)
            """;
        command.Parameters.AddWithValue("$caller", caller);
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$fingerprint", response.Fingerprint);
        command.Parameters.AddWithValue("$request", response.RequestId);
        command.Parameters.AddWithValue("$created", response.CreatedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$status", response.StatusCode);
        command.Parameters.AddWithValue("$type", response.ContentType);
        command.Parameters.AddWithValue("$headers", JsonSerializer.Serialize(response.Headers.ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase)));
        command.Parameters.AddWithValue("$body", response.Body);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes answers kept since before <paramref name="cutoff"/>; returns how many.</summary>
    public async Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM idempotent_responses WHERE created_ms < $cutoff";
        command.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
