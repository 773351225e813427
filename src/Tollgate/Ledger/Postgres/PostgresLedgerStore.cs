using System.Runtime.CompilerServices;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Tollgate.Ledger.Rollups;
using Tollgate.Metering;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// The ledger in PostgreSQL, shared by every replica (<c>storage.postgres</c>). Each replica still journals a record
/// before answering; its writer appends batches here with binary COPY into a staging table and one
/// <c>INSERT … ON CONFLICT (id) DO NOTHING</c>, so a replayed journal never writes a record twice. Money is
/// <c>numeric</c>: exact. The same transaction adds the records it inserted to the hourly rollups
/// (<see cref="PostgresRollups"/>), which reports read.
/// </summary>
public sealed class PostgresLedgerStore(NpgsqlDataSource source, RollupLimits? rollupLimits = null) : ILedgerStore, IRollupStore
{
    private readonly RollupLimits _rollupLimits = rollupLimits ?? RollupLimits.Default;

    private const string Columns =
        "id, ts_ms, latency_ms, ttfb_ms, key_id, user_id, session_id, cost_center, feature, project, env, tags, " +
        "endpoint, alias, deployment, provider, upstream_model, stream, status, http_status, attempts, " +
        "input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, usage_estimated, tool_calls, " +
        "cost_input, cost_cached_input, cost_cache_write, cost_output, cost_reasoning, cost_total, " +
        "cache_savings_usd, response_cache, response_cache_similarity, response_cache_saved_usd, " +
        "route_target, route_reason, route_reference_cost_usd, batch_id, batch_realtime_cost_usd, price_source, error, " +
        "max_output_tokens, prompt_prefix_hash, prompt_prefix_tokens, request_hash, upstream_request_id, question_hash, " +
        "prompt_chars, prompt_shape, prompt_vector";

    /// <summary>A store on its own data source, from a connection string.</summary>
    public static PostgresLedgerStore Open(string connectionString, RollupLimits? rollupLimits = null) => new(NpgsqlDataSource.Create(connectionString), rollupLimits);

    /// <summary>Applies the migrations, and rolls up a database that had records before it had rollups.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await PostgresMigrations.ApplyAsync(source, cancellationToken);
        bool complete;
        await using (var connection = await source.OpenConnectionAsync(cancellationToken))
        {
            complete = await PostgresRollups.IsCompleteAsync(connection, null, cancellationToken);
        }

        if (!complete)
        {
            await PostgresRollups.RebuildAsync(source, Columns, FromRow, _rollupLimits, onlyIfMissing: true, cancellationToken);
        }
    }

    public async Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }

        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var staging = new NpgsqlCommand($"CREATE TEMP TABLE staging_records ON COMMIT DROP AS SELECT {Columns} FROM usage_records WITH NO DATA", connection, transaction))
        {
            await staging.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var writer = await connection.BeginBinaryImportAsync($"COPY staging_records ({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            foreach (var record in records)
            {
                await WriteRowAsync(writer, record, cancellationToken);
            }

            await writer.CompleteAsync(cancellationToken);
        }

        var inserted = new HashSet<string>(StringComparer.Ordinal);
        await using (var insert = new NpgsqlCommand(
            $"INSERT INTO usage_records ({Columns}) SELECT {Columns} FROM staging_records ORDER BY ts_ms, id ON CONFLICT (id) DO NOTHING RETURNING id", connection, transaction))
        await using (var reader = await insert.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                inserted.Add(reader.GetString(0));
            }
        }

        // Only what this append inserted (a replayed record is already rolled up), each once.
        await PostgresRollups.RollUpAsync(connection, transaction, records.Where(r => inserted.Remove(r.Id)), _rollupLimits, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Nothing to catch up: each append rolls up its own records in its transaction.</summary>
    public Task<int> RollUpAsync(int maxRecords, CancellationToken cancellationToken) => Task.FromResult(0);

    public Task RebuildRollupsAsync(CancellationToken cancellationToken) =>
        PostgresRollups.RebuildAsync(source, Columns, FromRow, _rollupLimits, onlyIfMissing: false, cancellationToken);

    public Task<RollupScan> ScanRollupsAsync(string dimension, long fromHour, long toHour, Action<long, string, RollupTotals> onRow, CancellationToken cancellationToken) =>
        PostgresRollups.ScanAsync(source, dimension, fromHour, toHour, onRow, cancellationToken);

    public int TopPerHour => _rollupLimits.TopPerHour;

    public Task<(IReadOnlyList<(string Id, decimal Cost)> Top, long Mark)> ReadTopAsync(long fromHour, long toHour, CancellationToken cancellationToken) =>
        PostgresRollups.ReadTopAsync(source, fromHour, toHour, cancellationToken);

    /// <summary>
    /// Deletes raw records older than <paramref name="before"/>, oldest first, under the rollup lock (a rebuild in
    /// progress must not lose records it has not read yet); none before the rollups are complete.
    /// </summary>
    public async Task<int> DeleteRawBeforeAsync(DateTimeOffset before, int maxRecords, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await PostgresRollups.LockAsync(connection, transaction, cancellationToken);
        if (!await PostgresRollups.IsCompleteAsync(connection, transaction, cancellationToken))
        {
            return 0;
        }

        await using var delete = new NpgsqlCommand("DELETE FROM usage_records WHERE seq IN (SELECT seq FROM usage_records WHERE ts_ms < $1 ORDER BY ts_ms LIMIT $2)", connection, transaction);
        delete.Parameters.Add(new NpgsqlParameter { Value = before.ToUnixTimeMilliseconds() });
        delete.Parameters.Add(new NpgsqlParameter { Value = maxRecords });
        var deleted = await delete.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    public async Task DeleteRollupsBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await PostgresRollups.LockAsync(connection, transaction, cancellationToken);
        foreach (var table in new[] { "spend_rollups", "rollup_top", "rollup_tag_names" })
        {
            await using var delete = new NpgsqlCommand($"DELETE FROM {table} WHERE hour < $1", connection, transaction);
            delete.Parameters.Add(new NpgsqlParameter { Value = RollupDimensions.HourOf(before) });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<UsageRecord>> ReadByIdsAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM usage_records WHERE id = ANY($1)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = ids.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var records = new List<UsageRecord>(ids.Count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(FromRow(reader));
        }

        return records;
    }

    /// <summary>Past a complete mark there is nothing; before the first build, every record of the range.</summary>
    public IAsyncEnumerable<UsageRecord> ReadAfterMarkAsync(long mark, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        mark == PostgresRollups.Complete ? AsyncEnumerable.Empty<UsageRecord>() : ReadAsync(from, to, cancellationToken);

    public async IAsyncEnumerable<UsageRecord> ReadAsync(DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT {Columns} FROM usage_records WHERE ts_ms >= $1 AND ts_ms < $2 ORDER BY ts_ms, id", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = from.ToUnixTimeMilliseconds() });
        command.Parameters.Add(new NpgsqlParameter { Value = to.ToUnixTimeMilliseconds() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return FromRow(reader);
        }
    }

    public ValueTask DisposeAsync() => source.DisposeAsync();

    private static async Task WriteRowAsync(NpgsqlBinaryImporter writer, UsageRecord r, CancellationToken cancellationToken)
    {
        var a = r.Attribution;
        var u = r.Usage;
        var c = r.Cost;
        await writer.StartRowAsync(cancellationToken);
        await writer.WriteAsync(r.Id, NpgsqlDbType.Text, cancellationToken);
        await writer.WriteAsync(r.Timestamp.ToUnixTimeMilliseconds(), NpgsqlDbType.Bigint, cancellationToken);
        await writer.WriteAsync(r.LatencyMs, NpgsqlDbType.Double, cancellationToken);
        await Nullable(writer, r.TimeToFirstByteMs, NpgsqlDbType.Double, cancellationToken);
        foreach (var text in new[] { a.KeyId, a.User, a.Session, a.CostCenter, a.Feature, a.Project, a.Env })
        {
            await Text(writer, text, cancellationToken);
        }

        await writer.WriteAsync(JsonSerializer.Serialize(a.Tags, LedgerJsonContext.Default.IReadOnlyDictionaryStringString), NpgsqlDbType.Jsonb, cancellationToken);
        foreach (var text in new[] { r.Endpoint, r.Alias, r.Deployment, r.Provider, r.UpstreamModel })
        {
            await writer.WriteAsync(text, NpgsqlDbType.Text, cancellationToken);
        }

        await writer.WriteAsync(r.Stream, NpgsqlDbType.Boolean, cancellationToken);
        await writer.WriteAsync(r.Status, NpgsqlDbType.Text, cancellationToken);
        await writer.WriteAsync(r.HttpStatus, NpgsqlDbType.Integer, cancellationToken);
        await writer.WriteAsync(r.Attempts, NpgsqlDbType.Integer, cancellationToken);
        foreach (var count in new[] { u.InputTokens, u.CachedInputTokens, u.CacheWriteTokens, u.CacheWrite1hTokens, u.OutputTokens, u.ReasoningTokens })
        {
            await Nullable(writer, count, NpgsqlDbType.Bigint, cancellationToken);
        }

        await writer.WriteAsync(u.Estimated, NpgsqlDbType.Boolean, cancellationToken);
        await Text(writer, BuiltInToolCalls.Format(u.ToolCalls), cancellationToken);
        foreach (var money in new[] { c.Input, c.CachedInput, c.CacheWrite, c.Output, c.Reasoning })
        {
            await writer.WriteAsync(money, NpgsqlDbType.Numeric, cancellationToken);
        }

        await Nullable(writer, c.Total, NpgsqlDbType.Numeric, cancellationToken);
        await Nullable(writer, r.CacheSavingsUsd, NpgsqlDbType.Numeric, cancellationToken);
        await Text(writer, r.ResponseCacheHit, cancellationToken);
        await Nullable(writer, r.ResponseCacheSimilarity, NpgsqlDbType.Double, cancellationToken);
        await Nullable(writer, r.ResponseCacheSavedUsd, NpgsqlDbType.Numeric, cancellationToken);
        await Text(writer, r.RouteTarget, cancellationToken);
        await Text(writer, r.RouteReason, cancellationToken);
        await Nullable(writer, r.RouteReferenceCostUsd, NpgsqlDbType.Numeric, cancellationToken);
        await Text(writer, r.BatchId, cancellationToken);
        await Nullable(writer, r.RealtimeCostUsd, NpgsqlDbType.Numeric, cancellationToken);
        await writer.WriteAsync(r.PriceSource, NpgsqlDbType.Text, cancellationToken);
        await Text(writer, r.Error, cancellationToken);
        await Nullable(writer, r.MaxOutputTokens, NpgsqlDbType.Bigint, cancellationToken);
        await Text(writer, r.PromptPrefixHash, cancellationToken);
        await Nullable(writer, r.PromptPrefixTokens, NpgsqlDbType.Bigint, cancellationToken);
        await Text(writer, r.RequestHash, cancellationToken);
        await Text(writer, r.UpstreamRequestId, cancellationToken);
        await Text(writer, r.QuestionHash, cancellationToken);
        await Nullable(writer, r.PromptFacts?.Characters, NpgsqlDbType.Bigint, cancellationToken);
        await Nullable(writer, r.PromptFacts is { } facts ? (int)facts.Shape : (int?)null, NpgsqlDbType.Integer, cancellationToken);
        if (r.PromptFacts?.Vector is { } vector)
        {
            await writer.WriteAsync(vector.Encode(), NpgsqlDbType.Bytea, cancellationToken);
        }
        else
        {
            await writer.WriteNullAsync(cancellationToken);
        }
    }

    private static Task Text(NpgsqlBinaryImporter writer, string? value, CancellationToken cancellationToken) =>
        value is null ? writer.WriteNullAsync(cancellationToken) : writer.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);

    private static Task Nullable<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : struct =>
        value is { } v ? writer.WriteAsync(v, type, cancellationToken) : writer.WriteNullAsync(cancellationToken);

    private static UsageRecord FromRow(NpgsqlDataReader row)
    {
        string? Text(int i) => row.IsDBNull(i) ? null : row.GetString(i);
        long? Count(int i) => row.IsDBNull(i) ? null : row.GetInt64(i);
        decimal? Money(int i) => row.IsDBNull(i) ? null : row.GetDecimal(i);
        double? Real(int i) => row.IsDBNull(i) ? null : row.GetDouble(i);
        var tags = JsonSerializer.Deserialize(row.GetString(11), LedgerJsonContext.Default.DictionaryStringString) ?? [];
        return new UsageRecord
        {
            Id = row.GetString(0),
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(1)),
            LatencyMs = row.GetDouble(2),
            TimeToFirstByteMs = Real(3),
            Attribution = new Attribution(Text(4), Text(5), Text(6), Text(7), Text(8), Text(9), Text(10), tags),
            Endpoint = row.GetString(12),
            Alias = row.GetString(13),
            Deployment = row.GetString(14),
            Provider = row.GetString(15),
            UpstreamModel = row.GetString(16),
            Stream = row.GetBoolean(17),
            Status = row.GetString(18),
            HttpStatus = row.GetInt32(19),
            Attempts = row.GetInt32(20),
            Usage = new Usage(Count(21), Count(22), Count(23), Count(25), Count(26), row.GetBoolean(27))
            {
                CacheWrite1hTokens = Count(24),
                ToolCalls = BuiltInToolCalls.Parse(Text(28)),
            },
            Cost = new CostBreakdown(row.GetDecimal(29), row.GetDecimal(30), row.GetDecimal(31), row.GetDecimal(32), row.GetDecimal(33), Money(34)),
            CacheSavingsUsd = Money(35),
            ResponseCacheHit = Text(36),
            ResponseCacheSimilarity = Real(37),
            ResponseCacheSavedUsd = Money(38),
            RouteTarget = Text(39),
            RouteReason = Text(40),
            RouteReferenceCostUsd = Money(41),
            BatchId = Text(42),
            RealtimeCostUsd = Money(43),
            PriceSource = row.GetString(44),
            Error = Text(45),
            MaxOutputTokens = Count(46),
            PromptPrefixHash = Text(47),
            PromptPrefixTokens = Count(48),
            RequestHash = Text(49),
            UpstreamRequestId = Text(50),
            QuestionHash = Text(51),
            PromptFacts = Count(52) is { } characters
                ? new PromptFacts(characters, (PromptShape)(row.IsDBNull(53) ? 0 : row.GetInt32(53)), row.IsDBNull(54) ? null : PromptVector.Decode(row.GetFieldValue<byte[]>(54)))
                : null,
        };
    }
}
