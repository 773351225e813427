using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Tollgate.Metering;

namespace Tollgate.Ledger.Sqlite;

/// <summary>
/// The embedded ledger: one SQLite file in WAL mode. Money is stored as decimal text so that no cost is ever
/// rounded through a floating-point column; reports add it up in <see cref="decimal"/>.
/// </summary>
public sealed class SqliteLedgerStore : ILedgerStore, Rollups.IRollupStore
{
    private const string Columns =
        "id, ts_ms, latency_ms, ttfb_ms, key_id, user_id, session_id, cost_center, feature, project, env, tags, " +
        "endpoint, alias, deployment, provider, upstream_model, stream, status, http_status, " +
        "input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, usage_estimated, " +
        "cost_input, cost_cached_input, cost_cache_write, cost_output, cost_reasoning, cost_total, price_source, error, " +
        "cache_write_1h_tokens, cache_savings_usd, attempts, response_cache, response_cache_similarity, response_cache_saved_usd, " +
        "route_target, route_reason, route_reference_cost_usd, batch_id, batch_realtime_cost_usd, tool_calls, " +
        "max_output_tokens, prompt_prefix_hash, prompt_prefix_tokens, request_hash, upstream_request_id, question_hash, " +
        "prompt_chars, prompt_shape, prompt_vector";

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private SqliteInsertWriter? _writer;

    private readonly Rollups.RollupLimits _rollupLimits;

    /// <summary>
    /// Records this process inserted and has not rolled up yet, in row-id order: the catch-up rolls them up from here
    /// instead of reading them back (which cost more than the rest of the rollup work). Guarded by the write gate.
    /// </summary>
    private readonly List<(long RowId, UsageRecord Record)> _unrolled = [];
    private const int MaxUnrolledInMemory = 200_000;

    public SqliteLedgerStore(string databasePath, Rollups.RollupLimits? rollupLimits = null)
    {
        _rollupLimits = rollupLimits ?? Rollups.RollupLimits.Default;
        ArgumentException.ThrowIfNullOrEmpty(databasePath);
        var directory = Path.GetDirectoryName(Path.GetFullPath(databasePath));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _connectionString = new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = true }.ToString();
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS usage_records (
                id TEXT PRIMARY KEY,
                ts_ms INTEGER NOT NULL,
                latency_ms REAL NOT NULL,
                ttfb_ms REAL,
                key_id TEXT, user_id TEXT, session_id TEXT, cost_center TEXT, feature TEXT, project TEXT, env TEXT,
                tags TEXT NOT NULL,
                endpoint TEXT NOT NULL, alias TEXT NOT NULL, deployment TEXT NOT NULL, provider TEXT NOT NULL,
                upstream_model TEXT NOT NULL, stream INTEGER NOT NULL, status TEXT NOT NULL, http_status INTEGER NOT NULL,
                input_tokens INTEGER, cached_input_tokens INTEGER, cache_write_tokens INTEGER,
                output_tokens INTEGER, reasoning_tokens INTEGER, usage_estimated INTEGER NOT NULL,
                cost_input TEXT NOT NULL, cost_cached_input TEXT NOT NULL, cost_cache_write TEXT NOT NULL,
                cost_output TEXT NOT NULL, cost_reasoning TEXT NOT NULL, cost_total TEXT,
                price_source TEXT NOT NULL, error TEXT
            );
            CREATE INDEX IF NOT EXISTS ix_usage_records_ts ON usage_records (ts_ms);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
        await AddColumnIfMissingAsync(connection, "cache_write_1h_tokens", "INTEGER", cancellationToken);
        await AddColumnIfMissingAsync(connection, "cache_savings_usd", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "attempts", "INTEGER NOT NULL DEFAULT 1", cancellationToken);
        await AddColumnIfMissingAsync(connection, "response_cache", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "response_cache_similarity", "REAL", cancellationToken);
        await AddColumnIfMissingAsync(connection, "response_cache_saved_usd", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "route_target", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "route_reason", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "route_reference_cost_usd", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "batch_id", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "batch_realtime_cost_usd", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "tool_calls", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "max_output_tokens", "INTEGER", cancellationToken);
        await AddColumnIfMissingAsync(connection, "prompt_prefix_hash", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "prompt_prefix_tokens", "INTEGER", cancellationToken);
        await AddColumnIfMissingAsync(connection, "request_hash", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "upstream_request_id", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "question_hash", "TEXT", cancellationToken);
        await AddColumnIfMissingAsync(connection, "prompt_chars", "INTEGER", cancellationToken);
        await AddColumnIfMissingAsync(connection, "prompt_shape", "INTEGER", cancellationToken);
        await AddColumnIfMissingAsync(connection, "prompt_vector", "BLOB", cancellationToken);
        await using var rollups = connection.CreateCommand();
        rollups.CommandText = SqliteRollups.Schema;
        await rollups.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> RollUpAsync(int maxRecords, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            var (count, mark) = await SqliteRollups.RollUpAsync(connection, Columns, FromRow, _unrolled, _rollupLimits, maxRecords, cancellationToken);
            _unrolled.RemoveAll(r => r.RowId <= mark);
            return count;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async Task RebuildRollupsAsync(CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await SqliteRollups.ClearAsync(connection, cancellationToken);
        }
        finally
        {
            _writeGate.Release();
        }

        // In chunks: readers meanwhile see a mark that is behind and read the rest raw, so every answer stays exact.
        while (await RollUpAsync(100_000, cancellationToken) > 0)
        {
        }
    }

    public async Task<Rollups.RollupScan> ScanRollupsAsync(
        string dimension, long fromHour, long toHour, Action<long, string, Rollups.RollupTotals> onRow, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await SqliteRollups.ScanAsync(connection, dimension, fromHour, toHour, onRow, cancellationToken);
    }

    public int TopPerHour => _rollupLimits.TopPerHour;

    public async Task<int> DeleteRawBeforeAsync(DateTimeOffset before, int maxRecords, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var delete = connection.CreateCommand();
            delete.CommandText = """
                DELETE FROM usage_records WHERE rowid IN (
                    SELECT rowid FROM usage_records
                    WHERE ts_ms < $before
                      AND rowid <= (SELECT value FROM rollup_state WHERE name = 'mark')
                      AND rowid < (SELECT MAX(rowid) FROM usage_records)
                    LIMIT $limit)
                """;
            delete.Parameters.AddWithValue("$before", before.ToUnixTimeMilliseconds());
            delete.Parameters.AddWithValue("$limit", maxRecords);
            return await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async Task DeleteRollupsBeforeAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM spend_rollups WHERE hour < $hour; DELETE FROM rollup_top WHERE hour < $hour; DELETE FROM rollup_tag_names WHERE hour < $hour;";
            delete.Parameters.AddWithValue("$hour", Rollups.RollupDimensions.HourOf(before));
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async Task<(IReadOnlyList<(string Id, decimal Cost)> Top, long Mark)> ReadTopAsync(long fromHour, long toHour, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await SqliteRollups.ReadTopAsync(connection, fromHour, toHour, cancellationToken);
    }

    public async Task<IReadOnlyList<UsageRecord>> ReadByIdsAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var records = new List<UsageRecord>(ids.Count);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM usage_records WHERE id = $id";
        var parameter = command.Parameters.Add("$id", SqliteType.Text);
        foreach (var id in ids)
        {
            parameter.Value = id;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                records.Add(FromRow(reader, 0));
            }
        }

        return records;
    }

    public async IAsyncEnumerable<UsageRecord> ReadAfterMarkAsync(long mark, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM usage_records WHERE rowid > $mark AND ts_ms >= $from AND ts_ms < $to ORDER BY rowid";
        command.Parameters.AddWithValue("$mark", mark);
        command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return FromRow(reader, 0);
        }
    }

    /// <summary>Upgrades a ledger made by an earlier version: columns are only ever added.</summary>
    private static async Task AddColumnIfMissingAsync(SqliteConnection connection, string column, string type, CancellationToken cancellationToken)
    {
        await using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT COUNT(*) FROM pragma_table_info('usage_records') WHERE name = $name";
        probe.Parameters.AddWithValue("$name", column);
        if (Convert.ToInt64(await probe.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            await using var alter = connection.CreateCommand();
            alter.CommandText = $"ALTER TABLE usage_records ADD COLUMN {column} {type}";
            await alter.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }

        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            _writer ??= await SqliteInsertWriter.OpenAsync(await OpenAsync(cancellationToken), Columns);
            _writer.Append(records, _unrolled);
            if (_unrolled.Count > MaxUnrolledInMemory)
            {
                // Rollups are falling behind (or failing): the catch-up reads the rows back instead of holding them.
                _unrolled.Clear();
            }
        }
        catch
        {
            // A broken connection is opened afresh for the retry.
            _writer?.Dispose();
            _writer = null;
            throw;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async IAsyncEnumerable<UsageRecord> ReadAsync(DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM usage_records WHERE ts_ms >= $from AND ts_ms < $to ORDER BY ts_ms, id";
        command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return FromRow(reader, 0);
        }
    }

    public ValueTask DisposeAsync()
    {
        _writer?.Dispose();
        _writer = null;
        _writeGate.Dispose();
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    /// <summary>A record from a row whose columns are <see cref="Columns"/>, starting at <paramref name="first"/>.</summary>
    private static UsageRecord FromRow(SqliteDataReader row, int first)
    {
        var tags = JsonSerializer.Deserialize(row.GetString(first + 11), LedgerJsonContext.Default.DictionaryStringString) ?? [];
        return new UsageRecord
        {
            Id = row.GetString(first + 0),
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(first + 1)),
            LatencyMs = row.GetDouble(first + 2),
            TimeToFirstByteMs = row.IsDBNull(first + 3) ? null : row.GetDouble(first + 3),
            Attribution = new Attribution(Text(row, first + 4), Text(row, first + 5), Text(row, first + 6), Text(row, first + 7), Text(row, first + 8), Text(row, first + 9), Text(row, first + 10), tags),
            Endpoint = row.GetString(first + 12),
            Alias = row.GetString(first + 13),
            Deployment = row.GetString(first + 14),
            Provider = row.GetString(first + 15),
            UpstreamModel = row.GetString(first + 16),
            Stream = row.GetInt64(first + 17) != 0,
            Status = row.GetString(first + 18),
            HttpStatus = row.GetInt32(first + 19),
            Usage = new Usage(Count(row, first + 20), Count(row, first + 21), Count(row, first + 22), Count(row, first + 23), Count(row, first + 24), row.GetInt64(first + 25) != 0)
            {
                CacheWrite1hTokens = Count(row, first + 34),
                ToolCalls = BuiltInToolCalls.Parse(Text(row, first + 45)),
            },
            Cost = new CostBreakdown(
                ParseMoney(row.GetString(first + 26)),
                ParseMoney(row.GetString(first + 27)),
                ParseMoney(row.GetString(first + 28)),
                ParseMoney(row.GetString(first + 29)),
                ParseMoney(row.GetString(first + 30)),
                row.IsDBNull(first + 31) ? null : ParseMoney(row.GetString(first + 31))),
            PriceSource = row.GetString(first + 32),
            Error = Text(row, first + 33),
            CacheSavingsUsd = row.IsDBNull(first + 35) ? null : ParseMoney(row.GetString(first + 35)),
            Attempts = row.GetInt32(first + 36),
            ResponseCacheHit = Text(row, first + 37),
            ResponseCacheSimilarity = row.IsDBNull(first + 38) ? null : row.GetDouble(first + 38),
            ResponseCacheSavedUsd = row.IsDBNull(first + 39) ? null : ParseMoney(row.GetString(first + 39)),
            RouteTarget = Text(row, first + 40),
            RouteReason = Text(row, first + 41),
            RouteReferenceCostUsd = row.IsDBNull(first + 42) ? null : ParseMoney(row.GetString(first + 42)),
            BatchId = Text(row, first + 43),
            RealtimeCostUsd = row.IsDBNull(first + 44) ? null : ParseMoney(row.GetString(first + 44)),
            MaxOutputTokens = Count(row, first + 46),
            PromptPrefixHash = Text(row, first + 47),
            PromptPrefixTokens = Count(row, first + 48),
            RequestHash = Text(row, first + 49),
            UpstreamRequestId = Text(row, first + 50),
            QuestionHash = Text(row, first + 51),
            PromptFacts = row.IsDBNull(first + 52) ? null : new PromptFacts(
                row.GetInt64(first + 52),
                (PromptShape)(Count(row, first + 53) ?? 0),
                row.IsDBNull(first + 54) ? null : PromptVector.Decode((byte[])row.GetValue(first + 54))),
        };
    }

    private static string? Text(SqliteDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : row.GetString(ordinal);

    private static long? Count(SqliteDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : row.GetInt64(ordinal);

    internal static string Money(decimal value) => value == 0 ? "0" : value.ToString(CultureInfo.InvariantCulture);

    private static decimal ParseMoney(string value) => decimal.Parse(value, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);
}
