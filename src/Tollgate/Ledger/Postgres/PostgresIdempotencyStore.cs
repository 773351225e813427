using System.Text.Json;
using Npgsql;
using Tollgate.Gateway.Idempotency;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// Answers kept for idempotent replay in PostgreSQL, so a retry that reaches another replica after the first answer
/// was kept is replayed too; and the claims of requests still running (<c>idempotency_claims</c>), so a retry that
/// reaches another replica meanwhile is told the first is still running. A claim left by a replica that died is
/// taken over once it is older than the gateway's claim timeout.
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

    public async Task<bool> TryClaimAsync(string caller, string key, string holder, DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            INSERT INTO idempotency_claims (caller, key, holder, claimed_ms) VALUES ($1, $2, $3, $4)
            ON CONFLICT (caller, key) DO UPDATE SET holder = EXCLUDED.holder, claimed_ms = EXCLUDED.claimed_ms
            WHERE idempotency_claims.claimed_ms < $5
            """, connection);
        foreach (var value in new object[] { caller, key, holder, now.ToUnixTimeMilliseconds(), staleBefore.ToUnixTimeMilliseconds() })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task ReleaseClaimAsync(string caller, string key, string holder, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("DELETE FROM idempotency_claims WHERE caller = $1 AND key = $2 AND holder = $3", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = caller });
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        command.Parameters.Add(new NpgsqlParameter { Value = holder });
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
