using System.Text.Json;
using Npgsql;
using Tollgate.Policy.Keys;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// Virtual keys in PostgreSQL, shared by replicas (hashes only). Every save takes the next value of a change counter,
/// so a replica asks only for the keys changed since it last looked (<see cref="ChangedSinceAsync"/>).
/// </summary>
public sealed class PostgresKeyStore(NpgsqlDataSource source) : IKeyStore
{
    private const string Columns = "id, name, prefix, hash, created_ms, expires_ms, revoked_ms, allowed_models, max_tokens_cap, tags, lock_tags, rpm, tpm, default_max_tokens, version";

    /// <summary>The schema comes with the ledger's migrations (applied by the ledger store at start).</summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresMigrations.ApplyAsync(source, cancellationToken);

    public async Task<IReadOnlyList<VirtualKey>> LoadAllAsync(CancellationToken cancellationToken) =>
        (await ChangedSinceAsync(0, cancellationToken))!.Value.Keys;

    public async Task<(IReadOnlyList<VirtualKey> Keys, long Next)?> ChangedSinceAsync(long after, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM virtual_keys WHERE version > $1 ORDER BY version", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = after });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<VirtualKey>();
        var next = after;
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(VirtualKeyRow.Read(reader));
            next = Math.Max(next, reader.GetInt64(14));
        }

        return (keys, next);
    }

    public async Task SaveAsync(VirtualKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"""
            INSERT INTO virtual_keys ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, nextval('virtual_keys_version'))
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, expires_ms = EXCLUDED.expires_ms, revoked_ms = EXCLUDED.revoked_ms,
                allowed_models = EXCLUDED.allowed_models, max_tokens_cap = EXCLUDED.max_tokens_cap, tags = EXCLUDED.tags, lock_tags = EXCLUDED.lock_tags,
                rpm = EXCLUDED.rpm, tpm = EXCLUDED.tpm, default_max_tokens = EXCLUDED.default_max_tokens, version = EXCLUDED.version
            """, connection);
        foreach (var value in new object?[]
        {
            key.Id, key.Name, key.Prefix, key.Hash, key.CreatedAt.ToUnixTimeMilliseconds(), key.ExpiresAt?.ToUnixTimeMilliseconds(), key.RevokedAt?.ToUnixTimeMilliseconds(),
            JsonSerializer.Serialize(key.AllowedModels), key.MaxTokensCap, JsonSerializer.Serialize(key.Tags), key.LockTags,
            key.RateLimit.RequestsPerMinute, key.RateLimit.TokensPerMinute, key.MaxTokensDefault,
        })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
