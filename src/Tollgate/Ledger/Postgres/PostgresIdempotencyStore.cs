using System.Text.Json;
using Npgsql;
using Tollgate.Gateway.Idempotency;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// Answers kept for idempotent replay in PostgreSQL, so a retry that reaches another replica after the first answer
/// was kept is replayed too. (A retry that arrives while the first request still runs on another replica is not seen
/// as running there: the running claims are each replica's own.)
/// </summary>
public sealed class PostgresIdempotencyStore(NpgsqlDataSource source) : IIdempotencyStore
{
    /// <summary>The table comes with the migrations, applied by the ledger store at start.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<StoredResponse?> FindAsync(string caller, string key, DateTimeOffset notBefore, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT fingerprint, request_id, created_ms, status, content_type, headers, body FROM idempotent_responses
            WHERE caller = $1 AND key = $2 AND created_ms >= $3
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = caller });
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        command.Parameters.Add(new NpgsqlParameter { Value = notBefore.ToUnixTimeMilliseconds() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(5)) ?? [];
        return new StoredResponse((byte[])reader.GetValue(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
            reader.GetInt32(3), reader.GetString(4), [.. headers], (byte[])reader.GetValue(6));
    }

    public async Task SaveAsync(string caller, string key, StoredResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            INSERT INTO idempotent_responses (caller, key, fingerprint, request_id, created_ms, status, content_type, headers, body)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (caller, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, request_id = EXCLUDED.request_id, created_ms = EXCLUDED.created_ms,
                status = EXCLUDED.status, content_type = EXCLUDED.content_type, headers = EXCLUDED.headers, body = EXCLUDED.body
            """, connection);
        foreach (var value in new object[]
        {
            caller, key, response.Fingerprint, response.RequestId, response.CreatedAt.ToUnixTimeMilliseconds(), response.StatusCode, response.ContentType,
            JsonSerializer.Serialize(response.Headers.ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase)), response.Body,
        })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("DELETE FROM idempotent_responses WHERE created_ms < $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = cutoff.ToUnixTimeMilliseconds() });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
