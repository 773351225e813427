using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Tollgate.Batches;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// Files and batches shared by every replica (<see cref="IBatchStore"/>): a batch created through one replica is read,
/// listed, cancelled and settled through any. A settled batch is never written back to unsettled, whichever replica
/// saw it last, so its lines are settled once per hold.
/// </summary>
public sealed class PostgresBatchStore(NpgsqlDataSource source) : IBatchStore
{
    private const string BatchColumns = StoredRows.BatchColumns;

    /// <summary>The schema is the migrations' (<see cref="PostgresMigrations"/>), applied with the ledger's.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresMigrations.ApplyAsync(source, cancellationToken);

    public async Task SaveFileAsync(BatchFile file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        await ExecuteAsync("""
            INSERT INTO batch_files (id, deployment, caller, created_ms, alias, url, requests, worst_case_usd, unbounded)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (id) DO UPDATE SET deployment = excluded.deployment, caller = excluded.caller, created_ms = excluded.created_ms,
                alias = excluded.alias, url = excluded.url, requests = excluded.requests, worst_case_usd = excluded.worst_case_usd, unbounded = excluded.unbounded
            """, cancellationToken,
            Text(file.Id), Text(file.Deployment), Text(file.Caller), file.CreatedAt.ToUnixTimeMilliseconds(), Text(file.Alias), Text(file.Url),
            new NpgsqlParameter { Value = (object?)file.Bound?.Requests ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer },
            new NpgsqlParameter { Value = (object?)file.Bound?.WorstCaseUsd ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Numeric },
            Text(file.Bound?.Unbounded));
    }

    public async Task<BatchFile?> FindFileAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, "SELECT id, deployment, caller, created_ms, alias, url, requests, worst_case_usd, unbounded FROM batch_files WHERE id = $1", [Text(id)]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new BatchFile(reader.GetString(0), reader.GetString(1), reader.GetString(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)))
        {
            Alias = reader.IsDBNull(4) ? null : reader.GetString(4),
            Url = reader.IsDBNull(5) ? null : reader.GetString(5),
            Bound = reader.IsDBNull(6) ? null : new BatchBound(reader.GetInt32(6), reader.GetDecimal(7), reader.IsDBNull(8) ? null : reader.GetString(8)),
        };
    }

    public Task DeleteFileAsync(string id, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM batch_files WHERE id = $1", cancellationToken, Text(id));

    public async Task SaveBatchAsync(TrackedBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await ExecuteAsync($"""
            INSERT INTO batches ({BatchColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, object = excluded.object, next_poll_ms = excluded.next_poll_ms,
                poll_delay_ms = excluded.poll_delay_ms, settled = excluded.settled, spent_usd = excluded.spent_usd,
                holder = coalesce(batches.holder, excluded.holder)
            WHERE NOT batches.settled
            """, cancellationToken,
            Text(batch.Id), Text(batch.Deployment), Text(batch.Alias), Text(batch.Provider), Text(batch.Model), Text(batch.Caller),
            Text(JsonSerializer.Serialize(batch.Attribution)), Text(batch.Url), batch.ReservedUsd, Text(batch.Status), Text(batch.Object),
            batch.CreatedAt.ToUnixTimeMilliseconds(), batch.NextPollAt.ToUnixTimeMilliseconds(), (long)batch.PollDelay.TotalMilliseconds,
            batch.Settled, Text(batch.Api), batch.SpentUsd, Text(batch.Holder));
    }

    public async Task<TrackedBatch?> FindBatchAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync("WHERE id = $1", cancellationToken, Text(id))).FirstOrDefault();

    public Task<IReadOnlyList<TrackedBatch>> OpenBatchesAsync(CancellationToken cancellationToken) =>
        QueryAsync("WHERE NOT settled ORDER BY next_poll_ms", cancellationToken);

    public Task<IReadOnlyList<TrackedBatch>> ListAsync(string api, string? caller, string? after, int limit, CancellationToken cancellationToken) =>
        QueryAsync("""
            WHERE api = $1 AND ($2::text IS NULL OR caller = $2)
              AND ($3::text IS NULL OR (created_ms, id) < (SELECT created_ms, id FROM batches WHERE id = $3))
            ORDER BY created_ms DESC, id DESC LIMIT $4
            """, cancellationToken, Text(api), Text(caller), Text(after), limit);

    private async Task<IReadOnlyList<TrackedBatch>> QueryAsync(string where, CancellationToken cancellationToken, params object[] values)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, $"SELECT {BatchColumns} FROM batches " + where, values);
        var batches = new List<TrackedBatch>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            batches.Add(StoredRows.Batch(reader));
        }

        return batches;
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, sql, values);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, object[] values)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values)
        {
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
