using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Tollgate.Ledger.Sqlite;

/// <summary>
/// The ledger's write path: one connection and one prepared INSERT, bound by position through SQLitePCLRaw (the
/// library under Microsoft.Data.Sqlite). Binding by name costs a linear name lookup per parameter and a data reader
/// per row; at thousands of records a second that was most of the gateway's CPU.
/// </summary>
internal sealed class SqliteInsertWriter : IDisposable
{
    private const int MaxStackChars = 256;

    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _insert;
    private readonly sqlite3_stmt _begin;
    private readonly sqlite3_stmt _commit;
    private readonly sqlite3_stmt _rollback;

    private SqliteInsertWriter(SqliteConnection connection, string columns)
    {
        _connection = connection;
        var count = columns.Split(", ").Length;
        var placeholders = string.Join(", ", Enumerable.Range(1, count).Select(i => "?" + i));
        _insert = Prepare($"INSERT OR IGNORE INTO usage_records ({columns}) VALUES ({placeholders})");
        _begin = Prepare("BEGIN IMMEDIATE");
        _commit = Prepare("COMMIT");
        _rollback = Prepare("ROLLBACK");
    }

    public static Task<SqliteInsertWriter> OpenAsync(SqliteConnection connection, string columns) =>
        Task.FromResult(new SqliteInsertWriter(connection, columns));

    /// <summary>Writes the records in one transaction; on any error the transaction is rolled back and the error thrown.</summary>
    public void Append(IReadOnlyList<UsageRecord> records)
    {
        Step(_begin);
        try
        {
            foreach (var record in records)
            {
                Bind(record);
                Step(_insert);
            }

            Step(_commit);
        }
        catch
        {
            raw.sqlite3_reset(_insert);
            raw.sqlite3_step(_rollback);
            raw.sqlite3_reset(_rollback);
            throw;
        }
    }

    public void Dispose()
    {
        _insert.Dispose();
        _begin.Dispose();
        _commit.Dispose();
        _rollback.Dispose();
        _connection.Dispose();
    }

    private sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_connection.Handle, sql, out var statement));
        return statement;
    }

    private void Step(sqlite3_stmt statement)
    {
        var result = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (result != raw.SQLITE_DONE)
        {
            Check(result);
            throw new SqliteException($"SQLite step returned {result}", result);
        }
    }

    private void Check(int result)
    {
        if (result != raw.SQLITE_OK)
        {
            throw new SqliteException(raw.sqlite3_errmsg(_connection.Handle).utf8_to_string(), result);
        }
    }

    private void Bind(UsageRecord r)
    {
        var s = _insert;
        var a = r.Attribution;
        Text(s, 1, r.Id);
        raw.sqlite3_bind_int64(s, 2, r.Timestamp.ToUnixTimeMilliseconds());
        raw.sqlite3_bind_double(s, 3, r.LatencyMs);
        if (r.TimeToFirstByteMs is { } ttfb)
        {
            raw.sqlite3_bind_double(s, 4, ttfb);
        }
        else
        {
            raw.sqlite3_bind_null(s, 4);
        }

        Text(s, 5, a.KeyId);
        Text(s, 6, a.User);
        Text(s, 7, a.Session);
        Text(s, 8, a.CostCenter);
        Text(s, 9, a.Feature);
        Text(s, 10, a.Project);
        Text(s, 11, a.Env);
        Text(s, 12, a.Tags.Count == 0 ? "{}" : JsonSerializer.Serialize(a.Tags, LedgerJsonContext.Default.IReadOnlyDictionaryStringString));
        Text(s, 13, r.Endpoint);
        Text(s, 14, r.Alias);
        Text(s, 15, r.Deployment);
        Text(s, 16, r.Provider);
        Text(s, 17, r.UpstreamModel);
        raw.sqlite3_bind_int(s, 18, r.Stream ? 1 : 0);
        Text(s, 19, r.Status);
        raw.sqlite3_bind_int(s, 20, r.HttpStatus);
        Count(s, 21, r.Usage.InputTokens);
        Count(s, 22, r.Usage.CachedInputTokens);
        Count(s, 23, r.Usage.CacheWriteTokens);
        Count(s, 24, r.Usage.OutputTokens);
        Count(s, 25, r.Usage.ReasoningTokens);
        raw.sqlite3_bind_int(s, 26, r.Usage.Estimated ? 1 : 0);
        Money(s, 27, r.Cost.Input);
        Money(s, 28, r.Cost.CachedInput);
        Money(s, 29, r.Cost.CacheWrite);
        Money(s, 30, r.Cost.Output);
        Money(s, 31, r.Cost.Reasoning);
        Money(s, 32, r.Cost.Total);
        Text(s, 33, r.PriceSource);
        Text(s, 34, r.Error);
        Count(s, 35, r.Usage.CacheWrite1hTokens);
        Money(s, 36, r.CacheSavingsUsd);
        raw.sqlite3_bind_int(s, 37, r.Attempts);
    }

    /// <summary>
    /// Binds text as UTF-8 encoded on the stack (SQLite copies it): binding a <see cref="string"/> would allocate its
    /// UTF-8 bytes for every column of every record. Empty and very long text take the library's own path.
    /// </summary>
    private static void Text(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(statement, index);
        }
        else if (value.Length is 0 or > MaxStackChars)
        {
            raw.sqlite3_bind_text(statement, index, value);
        }
        else
        {
            Span<byte> utf8 = stackalloc byte[MaxStackChars * 3];
            var length = Encoding.UTF8.GetBytes(value, utf8);
            raw.sqlite3_bind_text(statement, index, utf8[..length]);
        }
    }

    /// <summary>Money as exact decimal text (see <see cref="SqliteLedgerStore.Money"/>), formatted on the stack.</summary>
    private static void Money(sqlite3_stmt statement, int index, decimal? value)
    {
        if (value is not { } money)
        {
            raw.sqlite3_bind_null(statement, index);
            return;
        }

        Span<byte> utf8 = stackalloc byte[48];
        if (money == 0)
        {
            raw.sqlite3_bind_text(statement, index, "0"u8);
        }
        else if (money.TryFormat(utf8, out var length, default, CultureInfo.InvariantCulture))
        {
            raw.sqlite3_bind_text(statement, index, utf8[..length]);
        }
        else
        {
            raw.sqlite3_bind_text(statement, index, SqliteLedgerStore.Money(money));
        }
    }

    private static void Count(sqlite3_stmt statement, int index, long? value)
    {
        if (value is { } v)
        {
            raw.sqlite3_bind_int64(statement, index, v);
        }
        else
        {
            raw.sqlite3_bind_null(statement, index);
        }
    }
}
