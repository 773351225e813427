using System.Globalization;
using Microsoft.Data.Sqlite;
using Tollgate.Ledger.Rollups;

namespace Tollgate.Ledger.Sqlite;

/// <summary>
/// The hourly rollups of the embedded ledger: the tables, the catch-up that rolls up records past its mark in one
/// transaction with the mark, and the snapshot reads. A row's sums are one exact binary value
/// (<see cref="RollupTotalsCodec"/>), read, added to in <see cref="decimal"/> and written back, so a rollup equals the
/// raw records' sum to the last decimal.
/// </summary>
internal static class SqliteRollups
{
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS spend_rollups (
            dimension TEXT NOT NULL, hour INTEGER NOT NULL, value TEXT NOT NULL, sums BLOB NOT NULL,
            PRIMARY KEY (dimension, hour, value)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rollup_tag_names (hour INTEGER NOT NULL, dimension TEXT NOT NULL, PRIMARY KEY (hour, dimension)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rollup_top (hour INTEGER NOT NULL, id TEXT NOT NULL, cost TEXT NOT NULL, PRIMARY KEY (hour, id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rollup_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT OR IGNORE INTO rollup_state (name, value) VALUES ('mark', 0);
        """;

    /// <summary>
    /// Rolls up the records after the mark (at most <paramref name="maxRecords"/>) and moves the mark, in one
    /// transaction; returns how many and the new mark. The records come from <paramref name="inserted"/> when it holds
    /// exactly the rows after the mark, in order (what this process wrote), else they are read back from the table.
    /// </summary>
    public static async Task<(int Count, long Mark)> RollUpAsync(
        SqliteConnection connection, string columns, Func<SqliteDataReader, int, UsageRecord> read, IReadOnlyList<(long RowId, UsageRecord Record)> inserted,
        RollupLimits limits, int maxRecords, CancellationToken cancellationToken)
    {
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var mark = await MarkAsync(connection, transaction, cancellationToken);
        var batch = new RollupBatch(limits);
        var last = mark;
        var count = 0;
        var from = 0;
        while (from < inserted.Count && inserted[from].RowId <= mark)
        {
            from++;
        }

        var contiguous = from < inserted.Count && inserted[from].RowId == mark + 1;
        for (var i = from; contiguous && i < inserted.Count && count < maxRecords && inserted[i].RowId == mark + 1 + count; i++)
        {
            batch.Add(inserted[i].Record);
            last = inserted[i].RowId;
            count++;
        }

        if (count == 0)
        {
            await using var select = Command(connection, transaction, $"SELECT rowid, {columns} FROM usage_records WHERE rowid > $mark ORDER BY rowid LIMIT $limit");
            select.Parameters.AddWithValue("$mark", mark);
            select.Parameters.AddWithValue("$limit", maxRecords);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                last = reader.GetInt64(0);
                batch.Add(read(reader, 1));
                count++;
            }
        }

        if (count == 0)
        {
            return (0, mark);
        }

        await batch.WriteAsync(new SqliteRollupTables(connection, transaction), cancellationToken);
        await using (var update = Command(connection, transaction, "UPDATE rollup_state SET value = $mark WHERE name = 'mark'"))
        {
            update.Parameters.AddWithValue("$mark", last);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (count, last);
    }

    public static async Task ClearAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var clear = Command(connection, transaction, "DELETE FROM spend_rollups; DELETE FROM rollup_tag_names; DELETE FROM rollup_top; UPDATE rollup_state SET value = 0 WHERE name = 'mark';");
        await clear.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// One dimension's rows over a range of hours and the mark, in one read transaction (one snapshot). Rows are handed
    /// to <paramref name="onRow"/> as they are read, hour by hour, decoded into one reused <see cref="RollupTotals"/>
    /// (the handler adds it up and keeps no reference): a month of hourly rows by user is 360,000 of them, and holding
    /// each as an object cost more than reading it. The rows of an hour that overflowed the dimension's cap are not
    /// handed on; that hour is returned among the incomplete ones.
    /// </summary>
    public static async Task<RollupScan> ScanAsync(
        SqliteConnection connection, string dimension, long fromHour, long toHour, Action<long, string, RollupTotals> onRow, CancellationToken cancellationToken)
    {
        await using var transaction = connection.BeginTransaction(deferred: true);
        if (!await HasRollupsAsync(connection, transaction, cancellationToken))
        {
            // A ledger no gateway of this version has opened yet: no rollups, everything is read raw.
            return new RollupScan(0, new HashSet<long>());
        }

        var mark = await MarkAsync(connection, transaction, cancellationToken);
        var incomplete = new HashSet<long>();
        var hourTotals = new Dictionary<long, RollupTotals>();
        if (dimension.StartsWith(RollupDimensions.TagPrefix, StringComparison.Ordinal))
        {
            // Read first: an hour with too many tag names is incomplete for every tag, so its rows are not handed on.
            await using var select = Command(connection, transaction, "SELECT dimension, hour, sums FROM spend_rollups WHERE dimension IN ($more, $total) AND hour >= $from AND hour < $to");
            select.Parameters.AddWithValue("$more", RollupDimensions.MoreTags);
            select.Parameters.AddWithValue("$total", RollupDimensions.Total);
            select.Parameters.AddWithValue("$from", fromHour);
            select.Parameters.AddWithValue("$to", toHour);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (reader.GetString(0) == RollupDimensions.Total)
                {
                    hourTotals[reader.GetInt64(1)] = Totals(reader, 2);
                }
                else
                {
                    incomplete.Add(reader.GetInt64(1));
                }
            }
        }

        ScanRows(connection, dimension, fromHour, toHour, incomplete, onRow);
        await transaction.CommitAsync(cancellationToken);
        return new RollupScan(mark, incomplete) { HourTotals = hourTotals };
    }

    /// <summary>
    /// The rows of one dimension, read through SQLite's own API in (hour, value) order, held an hour at a time as raw
    /// bytes until the hour is known to be complete. Values repeat every hour, so each distinct one is made into a
    /// string once.
    /// </summary>
    private static void ScanRows(SqliteConnection connection, string dimension, long fromHour, long toHour, HashSet<long> incomplete, Action<long, string, RollupTotals> onRow)
    {
        var check = SQLitePCL.raw.sqlite3_prepare_v2(connection.Handle, "SELECT hour, value, sums FROM spend_rollups WHERE dimension = ?1 AND hour >= ?2 AND hour < ?3 ORDER BY hour", out var statement);
        if (check != SQLitePCL.raw.SQLITE_OK)
        {
            throw new SqliteException(SQLitePCL.raw.sqlite3_errmsg(connection.Handle).utf8_to_string(), check);
        }

        using (statement)
        {
            SQLitePCL.raw.sqlite3_bind_text(statement, 1, dimension);
            SQLitePCL.raw.sqlite3_bind_int64(statement, 2, fromHour);
            SQLitePCL.raw.sqlite3_bind_int64(statement, 3, toHour);
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var lookup = values.GetAlternateLookup<ReadOnlySpan<char>>();
            Span<char> chars = stackalloc char[1024];
            var buffer = new RollupHourBuffer(incomplete, onRow);
            int step;
            while ((step = SQLitePCL.raw.sqlite3_step(statement)) == SQLitePCL.raw.SQLITE_ROW)
            {
                var utf8 = SQLitePCL.raw.sqlite3_column_blob(statement, 1);
                string value;
                if (System.Text.Encoding.UTF8.GetMaxCharCount(utf8.Length) <= chars.Length)
                {
                    var text = chars[..System.Text.Encoding.UTF8.GetChars(utf8, chars)];
                    if (!lookup.TryGetValue(text, out value!))
                    {
                        value = text.ToString();
                        values[value] = value;
                    }
                }
                else
                {
                    value = System.Text.Encoding.UTF8.GetString(utf8);
                }

                buffer.Add(SQLitePCL.raw.sqlite3_column_int64(statement, 0), value, SQLitePCL.raw.sqlite3_column_blob(statement, 2));
            }

            if (step != SQLitePCL.raw.SQLITE_DONE)
            {
                throw new SqliteException(SQLitePCL.raw.sqlite3_errmsg(connection.Handle).utf8_to_string(), step);
            }

            buffer.Flush();
        }
    }

    /// <summary>The kept most costly records of each hour in a range, and the mark, in one snapshot.</summary>
    public static async Task<(IReadOnlyList<(string Id, decimal Cost)> Top, long Mark)> ReadTopAsync(SqliteConnection connection, long fromHour, long toHour, CancellationToken cancellationToken)
    {
        await using var transaction = connection.BeginTransaction(deferred: true);
        if (!await HasRollupsAsync(connection, transaction, cancellationToken))
        {
            return ([], 0);
        }

        var mark = await MarkAsync(connection, transaction, cancellationToken);
        var top = new List<(string, decimal)>();
        await using var select = Command(connection, transaction, "SELECT id, cost FROM rollup_top WHERE hour >= $from AND hour < $to");
        select.Parameters.AddWithValue("$from", fromHour);
        select.Parameters.AddWithValue("$to", toHour);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            top.Add((reader.GetString(0), Money(reader.GetString(1))));
        }

        return (top, mark);
    }

    private static async Task<bool> HasRollupsAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        await using var probe = Command(connection, transaction, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'rollup_state'");
        return Convert.ToInt64(await probe.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) > 0;
    }

    private static async Task<long> MarkAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        await using var select = Command(connection, transaction, "SELECT value FROM rollup_state WHERE name = 'mark'");
        return Convert.ToInt64(await select.ExecuteScalarAsync(cancellationToken) ?? 0L, CultureInfo.InvariantCulture);
    }

    internal static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>A row's sums. (GetBytes would open a blob handle per call; the column's value is read directly.)</summary>
    internal static RollupTotals Totals(SqliteDataReader row, int ordinal) => RollupTotalsCodec.Read(row.GetFieldValue<byte[]>(ordinal));

    internal static decimal Money(string text) => decimal.Parse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);

}
