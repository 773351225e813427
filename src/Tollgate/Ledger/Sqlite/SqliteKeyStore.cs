using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tollgate.Policy.Keys;

namespace Tollgate.Ledger.Sqlite;

/// <summary>Virtual keys in the embedded SQLite database, beside the ledger. Only hashes are stored.</summary>
public sealed class SqliteKeyStore(string databasePath) : IKeyStore
{
    private readonly Ledger.Sqlite.SqliteDatabase _database = new(databasePath);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS virtual_keys (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                created_ms INTEGER NOT NULL, expires_ms INTEGER, revoked_ms INTEGER,
                allowed_models TEXT NOT NULL, max_tokens_cap INTEGER, tags TEXT NOT NULL, lock_tags INTEGER NOT NULL
            );
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
        foreach (var column in new[] { "rpm", "tpm", "default_max_tokens" })
        {
            await using var probe = connection.CreateCommand();
            probe.CommandText = $"SELECT COUNT(*) FROM pragma_table_info('virtual_keys') WHERE name = '{column}'";
            if (Convert.ToInt64(await probe.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                await using var alter = connection.CreateCommand();
                alter.CommandText = $"ALTER TABLE virtual_keys ADD COLUMN {column} INTEGER";
                await alter.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }

    public async Task<IReadOnlyList<VirtualKey>> LoadAllAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, prefix, hash, created_ms, expires_ms, revoked_ms, allowed_models, max_tokens_cap, tags, lock_tags, rpm, tpm, default_max_tokens FROM virtual_keys ORDER BY created_ms";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<VirtualKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(VirtualKeyRow.Read(reader));
        }

        return keys;
    }

    /// <summary>Inserts or replaces a key (revocation and expiry are updates of the same row).</summary>
    public async Task SaveAsync(VirtualKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT OR REPLACE INTO virtual_keys (id, name, prefix, hash, created_ms, expires_ms, revoked_ms, allowed_models, max_tokens_cap, tags, lock_tags, rpm, tpm, default_max_tokens)
            VALUES ($id, $name, $prefix, $hash, $created, $expires, $revoked, $models, $cap, $tags, $lock, $rpm, $tpm, $default)
            """;
        command.Parameters.AddWithValue("$id", key.Id);
        command.Parameters.AddWithValue("$name", key.Name);
        command.Parameters.AddWithValue("$prefix", key.Prefix);
        command.Parameters.AddWithValue("$hash", key.Hash);
        command.Parameters.AddWithValue("$created", key.CreatedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$expires", (object?)key.ExpiresAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        command.Parameters.AddWithValue("$revoked", (object?)key.RevokedAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
        command.Parameters.AddWithValue("$models", JsonSerializer.Serialize(key.AllowedModels));
        command.Parameters.AddWithValue("$cap", (object?)key.MaxTokensCap ?? DBNull.Value);
        command.Parameters.AddWithValue("$tags", JsonSerializer.Serialize(key.Tags));
        command.Parameters.AddWithValue("$lock", key.LockTags ? 1 : 0);
        command.Parameters.AddWithValue("$rpm", (object?)key.RateLimit.RequestsPerMinute ?? DBNull.Value);
        command.Parameters.AddWithValue("$tpm", (object?)key.RateLimit.TokensPerMinute ?? DBNull.Value);
        command.Parameters.AddWithValue("$default", (object?)key.MaxTokensDefault ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The file is this gateway's own: every change already went through its registry.</summary>
    public Task<(IReadOnlyList<VirtualKey> Keys, long Next)?> ChangedSinceAsync(long after, CancellationToken cancellationToken) =>
        Task.FromResult<(IReadOnlyList<VirtualKey>, long)?>(null);
}
