using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tollgate.Ledger;
using Tollgate.Batches;

namespace Tollgate.Ledger.Sqlite;

/// <summary>The files and batches made through this gateway, in its SQLite file (one gateway; see <see cref="IBatchStore"/>).</summary>
public sealed class SqliteBatchStore(string databasePath) : IBatchStore
{
    private readonly Ledger.Sqlite.SqliteDatabase _database = new(databasePath);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS batch_files (
                id TEXT PRIMARY KEY, deployment TEXT NOT NULL, caller TEXT NOT NULL, created_ms INTEGER NOT NULL,
                alias TEXT, url TEXT, requests INTEGER, worst_case_usd TEXT, unbounded TEXT);
            CREATE TABLE IF NOT EXISTS batches (
                id TEXT PRIMARY KEY, api TEXT NOT NULL, deployment TEXT NOT NULL, alias TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL,
                caller TEXT NOT NULL, attribution TEXT NOT NULL, url TEXT NOT NULL, reserved_usd TEXT NOT NULL,
                status TEXT NOT NULL, object TEXT NOT NULL, created_ms INTEGER NOT NULL, next_poll_ms INTEGER NOT NULL,
                poll_delay_ms INTEGER NOT NULL, settled INTEGER NOT NULL DEFAULT 0);
            CREATE INDEX IF NOT EXISTS batches_open ON batches (settled, next_poll_ms);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
        foreach (var column in new[] { "spent_usd", "holder" })
        {
            await using var probe = connection.CreateCommand();
            probe.CommandText = $"SELECT COUNT(*) FROM pragma_table_info('batches') WHERE name = '{column}'";
            if (Convert.ToInt64(await probe.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
            {
                await using var alter = connection.CreateCommand();
                alter.CommandText = $"ALTER TABLE batches ADD COLUMN {column} TEXT";
                await alter.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }

    public async Task SaveFileAsync(BatchFile file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT OR REPLACE INTO batch_files (id, deployment, caller, created_ms, alias, url, requests, worst_case_usd, unbounded)
            VALUES ($id, $deployment, $caller, $created, $alias, $url, $requests, $worst, $unbounded)
            """;
        command.Parameters.AddWithValue("$id", file.Id);
        command.Parameters.AddWithValue("$deployment", file.Deployment);
        command.Parameters.AddWithValue("$caller", file.Caller);
        command.Parameters.AddWithValue("$created", file.CreatedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$alias", (object?)file.Alias ?? DBNull.Value);
        command.Parameters.AddWithValue("$url", (object?)file.Url ?? DBNull.Value);
        command.Parameters.AddWithValue("$requests", (object?)file.Bound?.Requests ?? DBNull.Value);
        command.Parameters.AddWithValue("$worst", (object?)file.Bound?.WorstCaseUsd.ToString(CultureInfo.InvariantCulture) ?? DBNull.Value);
        command.Parameters.AddWithValue("$unbounded", (object?)file.Bound?.Unbounded ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<BatchFile?> FindFileAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, deployment, caller, created_ms, alias, url, requests, worst_case_usd, unbounded FROM batch_files WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new BatchFile(reader.GetString(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)))
        {
            Alias = reader.IsDBNull(4) ? null : reader.GetString(4),
            Url = reader.IsDBNull(5) ? null : reader.GetString(5),
            Bound = reader.IsDBNull(6) ? null : new BatchBound(reader.GetInt32(6), decimal.Parse(reader.GetString(7), CultureInfo.InvariantCulture), reader.IsDBNull(8) ? null : reader.GetString(8)),
        };
    }

    public async Task DeleteFileAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM batch_files WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task SaveBatchAsync(TrackedBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT OR REPLACE INTO batches (id, api, deployment, alias, provider, model, caller, attribution, url, reserved_usd, status, object, created_ms, next_poll_ms, poll_delay_ms, settled, spent_usd, holder)
            VALUES ($id, $api, $deployment, $alias, $provider, $model, $caller, $attribution, $url, $reserved, $status, $object, $created, $next, $delay, $settled, $spent, $holder)
            """;
        command.Parameters.AddWithValue("$id", batch.Id);
        command.Parameters.AddWithValue("$api", batch.Api);
        command.Parameters.AddWithValue("$deployment", batch.Deployment);
        command.Parameters.AddWithValue("$alias", batch.Alias);
        command.Parameters.AddWithValue("$provider", batch.Provider);
        command.Parameters.AddWithValue("$model", batch.Model);
        command.Parameters.AddWithValue("$caller", batch.Caller);
        command.Parameters.AddWithValue("$attribution", JsonSerializer.Serialize(batch.Attribution));
        command.Parameters.AddWithValue("$url", batch.Url);
        command.Parameters.AddWithValue("$reserved", batch.ReservedUsd.ToString(CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$status", batch.Status);
        command.Parameters.AddWithValue("$object", batch.Object);
        command.Parameters.AddWithValue("$created", batch.CreatedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$next", batch.NextPollAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$delay", (long)batch.PollDelay.TotalMilliseconds);
        command.Parameters.AddWithValue("$settled", batch.Settled ? 1 : 0);
        command.Parameters.AddWithValue("$spent", batch.SpentUsd.ToString(CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$holder", (object?)batch.Holder ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<TrackedBatch?> FindBatchAsync(string id, CancellationToken cancellationToken)
    {
        var found = await QueryAsync("WHERE id = $id", [("$id", id)], cancellationToken);
        return found.Count == 0 ? null : found[0];
    }

    public Task<IReadOnlyList<TrackedBatch>> OpenBatchesAsync(CancellationToken cancellationToken) =>
        QueryAsync("WHERE settled = 0 ORDER BY next_poll_ms", [], cancellationToken);

    public Task<IReadOnlyList<TrackedBatch>> ListAsync(string api, string? caller, string? after, int limit, CancellationToken cancellationToken)
    {
        var where = "WHERE api = $api AND ($caller IS NULL OR caller = $caller)"
            + " AND ($after IS NULL OR (created_ms, id) < (SELECT created_ms, id FROM batches WHERE id = $after))"
            + " ORDER BY created_ms DESC, id DESC LIMIT $limit";
        return QueryAsync(where, [("$api", api), ("$caller", caller), ("$after", after), ("$limit", limit)], cancellationToken);
    }

    private async Task<IReadOnlyList<TrackedBatch>> QueryAsync(string where, (string Name, object? Value)[] parameters, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {StoredRows.BatchColumns} FROM batches " + where;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        var batches = new List<TrackedBatch>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            batches.Add(StoredRows.Batch(reader));
        }

        return batches;
    }
}
