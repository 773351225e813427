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
    private const string NoTags = "{}";

    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _insert;
    private readonly sqlite3_stmt _begin;
    private readonly sqlite3_stmt _commit;
    private readonly sqlite3_stmt _rollback;
    private readonly Held[] _held;

    private SqliteInsertWriter(SqliteConnection connection, string columns)
    {
        _connection = connection;
        var count = columns.Split(", ").Length;
        var placeholders = string.Join(", ", Enumerable.Range(1, count).Select(i => "?" + i));
        _insert = Prepare($"INSERT OR IGNORE INTO usage_records ({columns}) VALUES ({placeholders})");
        _held = new Held[count + 1];
        _begin = Prepare("BEGIN IMMEDIATE");
        _commit = Prepare("COMMIT");
        _rollback = Prepare("ROLLBACK");
    }

    public static Task<SqliteInsertWriter> OpenAsync(SqliteConnection connection, string columns) =>
        Task.FromResult(new SqliteInsertWriter(connection, columns));

    /// <summary>
    /// Writes the records in one transaction; on any error the transaction is rolled back and the error thrown. Adds
    /// to <paramref name="inserted"/> each record that was new (a replayed one is ignored) with the row id it got.
    /// </summary>
    public void Append(IReadOnlyList<UsageRecord> records, List<(long RowId, UsageRecord Record)> inserted)
    {
        var before = inserted.Count;
        Step(_begin);
        try
        {
            foreach (var record in records)
            {
                Bind(record);
                Step(_insert);
                if (raw.sqlite3_changes(_connection.Handle) == 1)
                {
                    inserted.Add((raw.sqlite3_last_insert_rowid(_connection.Handle), record));
                }
            }

            Step(_commit);
        }
        catch
        {
            inserted.RemoveRange(before, inserted.Count - before);

            // What the parameters hold is no longer known: every one is bound afresh next time.
            Array.Clear(_held);
            raw.sqlite3_clear_bindings(_insert);
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
        var a = r.Attribution;
        Text(1, r.Id);
        Integer(2, r.Timestamp.ToUnixTimeMilliseconds());
        Real(3, r.LatencyMs);
        Real(4, r.TimeToFirstByteMs);
        Text(5, a.KeyId);
        Text(6, a.User);
        Text(7, a.Session);
        Text(8, a.CostCenter);
        Text(9, a.Feature);
        Text(10, a.Project);
        Text(11, a.Env);
        Text(12, a.Tags.Count == 0 ? NoTags : JsonSerializer.Serialize(a.Tags, LedgerJsonContext.Default.IReadOnlyDictionaryStringString));
        Text(13, r.Endpoint);
        Text(14, r.Alias);
        Text(15, r.Deployment);
        Text(16, r.Provider);
        Text(17, r.UpstreamModel);
        Integer(18, r.Stream ? 1 : 0);
        Text(19, r.Status);
        Integer(20, r.HttpStatus);
        Integer(21, r.Usage.InputTokens);
        Integer(22, r.Usage.CachedInputTokens);
        Integer(23, r.Usage.CacheWriteTokens);
        Integer(24, r.Usage.OutputTokens);
        Integer(25, r.Usage.ReasoningTokens);
        Integer(26, r.Usage.Estimated ? 1 : 0);
        Money(27, r.Cost.Input);
        Money(28, r.Cost.CachedInput);
        Money(29, r.Cost.CacheWrite);
        Money(30, r.Cost.Output);
        Money(31, r.Cost.Reasoning);
        Money(32, r.Cost.Total);
        Text(33, r.PriceSource);
        Text(34, r.Error);
        Integer(35, r.Usage.CacheWrite1hTokens);
        Money(36, r.CacheSavingsUsd);
        Integer(37, r.Attempts);
        Text(38, r.ResponseCacheHit);
        Real(39, r.ResponseCacheSimilarity);
        Money(40, r.ResponseCacheSavedUsd);
        Text(41, r.RouteTarget);
        Text(42, r.RouteReason);
        Money(43, r.RouteReferenceCostUsd);
        Text(44, r.BatchId);
        Money(45, r.RealtimeCostUsd);
        Text(46, Metering.BuiltInToolCalls.Format(r.Usage.ToolCalls));
        Integer(47, r.MaxOutputTokens);
        Text(48, r.PromptPrefixHash);
        Integer(49, r.PromptPrefixTokens);
        Text(50, r.RequestHash);
        Text(51, r.UpstreamRequestId);
        Text(52, r.QuestionHash);
        Integer(53, r.PromptFacts?.Characters);
        Integer(54, r.PromptFacts is { } facts ? (long)facts.Shape : null);
        Blob(55, r.PromptFacts?.Vector?.Encode());
    }

    private void Blob(int index, byte[]? value)
    {
        if (value is null)
        {
            Integer(index, null);
            return;
        }

        _held[index] = default;
        raw.sqlite3_bind_blob(_insert, index, value);
    }

    /// <summary>
    /// Binds text as UTF-8 encoded on the stack (SQLite copies it): binding a <see cref="string"/> would allocate its
    /// UTF-8 bytes for every column of every record. Empty and very long text take the library's own path. The same
    /// string (the alias, the deployment, a null) as the previous record's is not bound again.
    /// </summary>
    private void Text(int index, string? value)
    {
        ref var held = ref _held[index];
        if (held.Kind == HeldKind.Text && ReferenceEquals(held.Text, value))
        {
            return;
        }

        held = new Held(HeldKind.Text, value, null, default);
        if (value is null)
        {
            raw.sqlite3_bind_null(_insert, index);
        }
        else if (value.Length is 0 or > MaxStackChars)
        {
            raw.sqlite3_bind_text(_insert, index, value);
        }
        else
        {
            Span<byte> utf8 = stackalloc byte[MaxStackChars * 3];
            var length = Encoding.UTF8.GetBytes(value, utf8);
            raw.sqlite3_bind_text(_insert, index, utf8[..length]);
        }
    }

    private void Integer(int index, long? value)
    {
        ref var held = ref _held[index];
        if (held.Kind == HeldKind.Integer && held.Number == value)
        {
            return;
        }

        held = new Held(HeldKind.Integer, null, value, default);
        if (value is { } v)
        {
            raw.sqlite3_bind_int64(_insert, index, v);
        }
        else
        {
            raw.sqlite3_bind_null(_insert, index);
        }
    }

    private void Real(int index, double? value)
    {
        if (value is { } v)
        {
            _held[index] = default;
            raw.sqlite3_bind_double(_insert, index, v);
        }
        else
        {
            Integer(index, null);
        }
    }

    /// <summary>
    /// Money as exact decimal text (see <see cref="SqliteLedgerStore.Money"/>), formatted on the stack. The same amount
    /// written the same way (equal and of the same scale: 0.10 is not 0.1) is not bound again.
    /// </summary>
    private void Money(int index, decimal? value)
    {
        ref var held = ref _held[index];
        if (held.Kind == HeldKind.Money && held.Money == value && held.Money?.Scale == value?.Scale)
        {
            return;
        }

        held = new Held(HeldKind.Money, null, null, value);
        if (value is not { } money)
        {
            raw.sqlite3_bind_null(_insert, index);
            return;
        }

        Span<byte> utf8 = stackalloc byte[48];
        if (money == 0)
        {
            raw.sqlite3_bind_text(_insert, index, "0"u8);
        }
        else if (money.TryFormat(utf8, out var length, default, CultureInfo.InvariantCulture))
        {
            raw.sqlite3_bind_text(_insert, index, utf8[..length]);
        }
        else
        {
            raw.sqlite3_bind_text(_insert, index, SqliteLedgerStore.Money(money));
        }
    }

    private enum HeldKind : byte
    {
        None,
        Text,
        Integer,
        Money,
    }

    /// <summary>What a parameter of the INSERT holds: SQLite keeps bindings from one row to the next.</summary>
    private readonly record struct Held(HeldKind Kind, string? Text, long? Number, decimal? Money);
}
