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
public sealed class SqliteLedgerStore : ILedgerStore
{
    private const string Columns =
        "id, ts_ms, latency_ms, ttfb_ms, key_id, user_id, session_id, cost_center, feature, project, env, tags, " +
        "endpoint, alias, deployment, provider, upstream_model, stream, status, http_status, " +
        "input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, reasoning_tokens, usage_estimated, " +
        "cost_input, cost_cached_input, cost_cache_write, cost_output, cost_reasoning, cost_total, price_source, error";

    private readonly string _connectionString;

    public SqliteLedgerStore(string databasePath)
    {
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
    }

    public async Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var names = Columns.Split(", ");
        command.CommandText = $"INSERT OR IGNORE INTO usage_records ({Columns}) VALUES ({string.Join(", ", names.Select(n => "$" + n))})";
        var parameters = names.ToDictionary(n => n, n =>
        {
            // No explicit SqliteType: the type is taken from each value, so integers stay integers.
            var parameter = new SqliteParameter { ParameterName = "$" + n };
            command.Parameters.Add(parameter);
            return parameter;
        });
        foreach (var record in records)
        {
            var values = ToColumns(record);
            foreach (var (name, value) in values)
            {
                parameters[name].Value = value ?? DBNull.Value;
            }

            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async IAsyncEnumerable<UsageRecord> ReadAsync(DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM usage_records WHERE ts_ms >= $since ORDER BY ts_ms, id";
        command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return FromRow(reader);
        }
    }

    public ValueTask DisposeAsync()
    {
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

    private static IEnumerable<(string Name, object? Value)> ToColumns(UsageRecord r)
    {
        var a = r.Attribution;
        yield return ("id", r.Id);
        yield return ("ts_ms", r.Timestamp.ToUnixTimeMilliseconds());
        yield return ("latency_ms", r.LatencyMs);
        yield return ("ttfb_ms", r.TimeToFirstByteMs);
        yield return ("key_id", a.KeyId);
        yield return ("user_id", a.User);
        yield return ("session_id", a.Session);
        yield return ("cost_center", a.CostCenter);
        yield return ("feature", a.Feature);
        yield return ("project", a.Project);
        yield return ("env", a.Env);
        yield return ("tags", JsonSerializer.Serialize(a.Tags, LedgerJsonContext.Default.IReadOnlyDictionaryStringString));
        yield return ("endpoint", r.Endpoint);
        yield return ("alias", r.Alias);
        yield return ("deployment", r.Deployment);
        yield return ("provider", r.Provider);
        yield return ("upstream_model", r.UpstreamModel);
        yield return ("stream", r.Stream ? 1 : 0);
        yield return ("status", r.Status);
        yield return ("http_status", r.HttpStatus);
        yield return ("input_tokens", r.Usage.InputTokens);
        yield return ("cached_input_tokens", r.Usage.CachedInputTokens);
        yield return ("cache_write_tokens", r.Usage.CacheWriteTokens);
        yield return ("output_tokens", r.Usage.OutputTokens);
        yield return ("reasoning_tokens", r.Usage.ReasoningTokens);
        yield return ("usage_estimated", r.Usage.Estimated ? 1 : 0);
        yield return ("cost_input", Money(r.Cost.Input));
        yield return ("cost_cached_input", Money(r.Cost.CachedInput));
        yield return ("cost_cache_write", Money(r.Cost.CacheWrite));
        yield return ("cost_output", Money(r.Cost.Output));
        yield return ("cost_reasoning", Money(r.Cost.Reasoning));
        yield return ("cost_total", r.Cost.Total is { } total ? Money(total) : null);
        yield return ("price_source", r.PriceSource);
        yield return ("error", r.Error);
    }

    private static UsageRecord FromRow(SqliteDataReader row)
    {
        var tags = JsonSerializer.Deserialize(row.GetString(11), LedgerJsonContext.Default.DictionaryStringString) ?? [];
        return new UsageRecord
        {
            Id = row.GetString(0),
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(row.GetInt64(1)),
            LatencyMs = row.GetDouble(2),
            TimeToFirstByteMs = row.IsDBNull(3) ? null : row.GetDouble(3),
            Attribution = new Attribution(Text(row, 4), Text(row, 5), Text(row, 6), Text(row, 7), Text(row, 8), Text(row, 9), Text(row, 10), tags),
            Endpoint = row.GetString(12),
            Alias = row.GetString(13),
            Deployment = row.GetString(14),
            Provider = row.GetString(15),
            UpstreamModel = row.GetString(16),
            Stream = row.GetInt64(17) != 0,
            Status = row.GetString(18),
            HttpStatus = row.GetInt32(19),
            Usage = new Usage(Count(row, 20), Count(row, 21), Count(row, 22), Count(row, 23), Count(row, 24), row.GetInt64(25) != 0),
            Cost = new CostBreakdown(
                ParseMoney(row.GetString(26)),
                ParseMoney(row.GetString(27)),
                ParseMoney(row.GetString(28)),
                ParseMoney(row.GetString(29)),
                ParseMoney(row.GetString(30)),
                row.IsDBNull(31) ? null : ParseMoney(row.GetString(31))),
            PriceSource = row.GetString(32),
            Error = Text(row, 33),
        };
    }

    private static string? Text(SqliteDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : row.GetString(ordinal);

    private static long? Count(SqliteDataReader row, int ordinal) => row.IsDBNull(ordinal) ? null : row.GetInt64(ordinal);

    private static string Money(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static decimal ParseMoney(string value) => decimal.Parse(value, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);
}
