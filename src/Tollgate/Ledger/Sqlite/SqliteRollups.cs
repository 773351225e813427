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
        await using var batch = new Batch(connection, transaction, limits);
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
            await batch.AddAsync(inserted[i].Record, cancellationToken);
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
                await batch.AddAsync(read(reader, 1), cancellationToken);
                count++;
            }
        }

        if (count == 0)
        {
            return (0, mark);
        }

        await batch.WriteAsync(cancellationToken);
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
            var pending = new List<(string Value, int Offset, int Length)>();
            var bytes = new byte[64 * 1024];
            var used = 0;
            var scratch = new RollupTotals();
            long current = long.MinValue;
            var overflowed = false;
            void Flush()
            {
                if (overflowed || incomplete.Contains(current))
                {
                    incomplete.Add(current);
                }
                else
                {
                    foreach (var (value, offset, length) in pending)
                    {
                        RollupTotalsCodec.ReadInto(bytes.AsSpan(offset, length), scratch);
                        onRow(current, value, scratch);
                    }
                }

                pending.Clear();
                used = 0;
                overflowed = false;
            }

            int step;
            while ((step = SQLitePCL.raw.sqlite3_step(statement)) == SQLitePCL.raw.SQLITE_ROW)
            {
                var hour = SQLitePCL.raw.sqlite3_column_int64(statement, 0);
                if (hour != current)
                {
                    if (current != long.MinValue)
                    {
                        Flush();
                    }

                    current = hour;
                }

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

                if (value == RollupDimensions.MoreValues)
                {
                    overflowed = true;
                    continue;
                }

                var sums = SQLitePCL.raw.sqlite3_column_blob(statement, 2);
                if (used + sums.Length > bytes.Length)
                {
                    Array.Resize(ref bytes, Math.Max(bytes.Length * 2, used + sums.Length));
                }

                sums.CopyTo(bytes.AsSpan(used));
                pending.Add((value, used, sums.Length));
                used += sums.Length;
            }

            if (step != SQLitePCL.raw.SQLITE_DONE)
            {
                throw new SqliteException(SQLitePCL.raw.sqlite3_errmsg(connection.Handle).utf8_to_string(), step);
            }

            if (current != long.MinValue)
            {
                Flush();
            }
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

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    /// <summary>A row's sums. (GetBytes would open a blob handle per call; the column's value is read directly.)</summary>
    private static RollupTotals Totals(SqliteDataReader row, int ordinal) => RollupTotalsCodec.Read(row.GetFieldValue<byte[]>(ordinal));

    private static decimal Money(string text) => decimal.Parse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);

    /// <summary>
    /// One catch-up's rows: each (dimension, hour, value) the records touch, started from its stored row if it has one,
    /// with the caps applied to the dimensions clients choose. Its statements are prepared once and rebound.
    /// </summary>
    private sealed class Batch : IAsyncDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteTransaction _transaction;
        private readonly RollupLimits _limits;
        private readonly Dictionary<(string Dimension, long Hour, string Value), RollupTotals> _rows = [];
        private readonly Dictionary<(string Dimension, long Hour), int> _valueCounts = [];
        private readonly Dictionary<long, HashSet<string>> _tagNames = [];
        private readonly HashSet<(string Dimension, long Hour)> _newTagNames = [];
        private readonly Dictionary<long, List<(string Id, decimal Cost)>> _top = [];
        private readonly Dictionary<Combination, (UsageRecord Sample, RollupTotals Sum)> _combinations = [];
        private readonly byte[] _sums = new byte[RollupTotalsCodec.Size];
        private readonly SqliteCommand _selectRow;
        private readonly SqliteCommand _countValues;

        public Batch(SqliteConnection connection, SqliteTransaction transaction, RollupLimits limits)
        {
            _connection = connection;
            _transaction = transaction;
            _limits = limits;
            _selectRow = Prepare("SELECT sums FROM spend_rollups WHERE dimension = $d AND hour = $h AND value = $v", "$d", "$h", "$v");
            _countValues = Prepare("SELECT COUNT(*) FROM spend_rollups WHERE dimension = $d AND hour = $h AND value <> $more", "$d", "$h", "$more");
        }

        /// <summary>
        /// Takes a record in. Records that share every rolled-up value (the same hour, model, key, user, feature, tags…)
        /// are summed first, so each dimension's row is added to once per such group rather than once per record.
        /// </summary>
        public Task AddAsync(UsageRecord record, CancellationToken cancellationToken)
        {
            _ = cancellationToken;
            var hour = RollupDimensions.HourOf(record.Timestamp);
            if (record.Cost.Total is { } cost)
            {
                (_top.TryGetValue(hour, out var candidates) ? candidates : _top[hour] = []).Add((record.Id, cost));
            }

            var combination = Combination.Of(record, hour);
            if (!_combinations.TryGetValue(combination, out var group))
            {
                group = (record, new RollupTotals());
                _combinations[combination] = group;
            }

            group.Sum.Add(record);
            return Task.CompletedTask;
        }

        private async Task SpreadAsync(CancellationToken cancellationToken)
        {
            foreach (var (combination, (sample, sum)) in _combinations)
            {
                var hour = combination.Hour;
                foreach (var (dimension, value) in RollupDimensions.Of(sample))
                {
                    if (dimension.StartsWith(RollupDimensions.TagPrefix, StringComparison.Ordinal) && !await AdmitTagAsync(dimension, hour, cancellationToken))
                    {
                        (await RowAsync((RollupDimensions.MoreTags, hour, string.Empty), capped: false, cancellationToken)).Add(sum);
                        continue;
                    }

                    // Most keys are already in the batch after their first combination: no await, no task, for those.
                    var row = _rows.TryGetValue((dimension, hour, value), out var known) ? known : await RowAsync((dimension, hour, value), RollupDimensions.IsCapped(dimension), cancellationToken);
                    row.Add(sum);
                }
            }
        }

        public async Task WriteAsync(CancellationToken cancellationToken)
        {
            await SpreadAsync(cancellationToken);
            await using (var upsert = Prepare("INSERT OR REPLACE INTO spend_rollups (dimension, hour, value, sums) VALUES ($d, $h, $v, $s)", "$d", "$h", "$v", "$s"))
            {
                foreach (var ((dimension, hour, value), totals) in _rows)
                {
                    RollupTotalsCodec.Write(totals, _sums);
                    upsert.Parameters[0].Value = dimension;
                    upsert.Parameters[1].Value = hour;
                    upsert.Parameters[2].Value = value;
                    upsert.Parameters[3].Value = _sums;
                    await upsert.ExecuteNonQueryAsync(cancellationToken);
                }
            }

            await WriteTopAsync(cancellationToken);
            await using var names = Prepare("INSERT OR IGNORE INTO rollup_tag_names (hour, dimension) VALUES ($h, $d)", "$h", "$d");
            foreach (var (dimension, hour) in _newTagNames)
            {
                names.Parameters[0].Value = hour;
                names.Parameters[1].Value = dimension;
                await names.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _selectRow.DisposeAsync();
            await _countValues.DisposeAsync();
        }

        private SqliteCommand Prepare(string sql, params string[] parameters)
        {
            var command = Command(_connection, _transaction, sql);
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            return command;
        }

        /// <summary>
        /// The row being built for a key: its stored sums the first time it is touched, or empty. A new value of a
        /// capped dimension in an hour that has all the values it keeps goes to the hour's overflow row instead.
        /// </summary>
        private async Task<RollupTotals> RowAsync((string Dimension, long Hour, string Value) key, bool capped, CancellationToken cancellationToken)
        {
            if (_rows.TryGetValue(key, out var totals))
            {
                return totals;
            }

            _selectRow.Parameters[0].Value = key.Dimension;
            _selectRow.Parameters[1].Value = key.Hour;
            _selectRow.Parameters[2].Value = key.Value;
            await using (var reader = await _selectRow.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken))
                {
                    totals = Totals(reader, 0);
                }
            }

            if (totals is null && capped && key.Value != RollupDimensions.MoreValues)
            {
                var counted = await ValueCountAsync(key.Dimension, key.Hour, cancellationToken);
                if (counted >= _limits.MaxValuesPerHour)
                {
                    return await RowAsync((key.Dimension, key.Hour, RollupDimensions.MoreValues), capped, cancellationToken);
                }

                _valueCounts[(key.Dimension, key.Hour)] = counted + 1;
            }

            totals ??= new RollupTotals();
            _rows[key] = totals;
            return totals;
        }

        private async Task<int> ValueCountAsync(string dimension, long hour, CancellationToken cancellationToken)
        {
            if (_valueCounts.TryGetValue((dimension, hour), out var count))
            {
                return count;
            }

            _countValues.Parameters[0].Value = dimension;
            _countValues.Parameters[1].Value = hour;
            _countValues.Parameters[2].Value = RollupDimensions.MoreValues;
            count = Convert.ToInt32(await _countValues.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            _valueCounts[(dimension, hour)] = count;
            return count;
        }

        /// <summary>Whether a tag name has rows of its own in this hour: it has, or the hour has room for one more.</summary>
        private async Task<bool> AdmitTagAsync(string dimension, long hour, CancellationToken cancellationToken)
        {
            if (!_tagNames.TryGetValue(hour, out var names))
            {
                names = [];
                await using var select = Prepare("SELECT dimension FROM rollup_tag_names WHERE hour = $h", "$h");
                select.Parameters[0].Value = hour;
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    names.Add(reader.GetString(0));
                }

                _tagNames[hour] = names;
            }

            if (names.Contains(dimension))
            {
                return true;
            }

            if (names.Count >= _limits.MaxTagNamesPerHour)
            {
                return false;
            }

            names.Add(dimension);
            _newTagNames.Add((dimension, hour));
            return true;
        }

        /// <summary>Each touched hour keeps its <see cref="RollupLimits.TopPerHour"/> most costly priced records: the hour's stored ones and the new ones, merged.</summary>
        private async Task WriteTopAsync(CancellationToken cancellationToken)
        {
            await using var select = Prepare("SELECT id, cost FROM rollup_top WHERE hour = $h", "$h");
            await using var delete = Prepare("DELETE FROM rollup_top WHERE hour = $h", "$h");
            await using var insert = Prepare("INSERT INTO rollup_top (hour, id, cost) VALUES ($h, $id, $cost)", "$h", "$id", "$cost");
            foreach (var (hour, candidates) in _top)
            {
                select.Parameters[0].Value = hour;
                await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
                {
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        candidates.Add((reader.GetString(0), Money(reader.GetString(1))));
                    }
                }

                delete.Parameters[0].Value = hour;
                await delete.ExecuteNonQueryAsync(cancellationToken);
                foreach (var (id, cost) in candidates.OrderByDescending(c => c.Cost).ThenBy(c => c.Id, StringComparer.Ordinal).Take(_limits.TopPerHour))
                {
                    insert.Parameters[0].Value = hour;
                    insert.Parameters[1].Value = id;
                    insert.Parameters[2].Value = SqliteLedgerStore.Money(cost);
                    await insert.ExecuteNonQueryAsync(cancellationToken);
                }
            }
        }
    }

    /// <summary>Everything a record is rolled up by: two records equal here add to exactly the same rows.</summary>
    private readonly record struct Combination(
        long Hour, string Model, string Alias, string Deployment, string Provider, string? Key, string Status, string Endpoint,
        string? User, string? Feature, string? CostCenter, string? Project, string? Env, string Tags, string? RouteTarget)
    {
        public static Combination Of(UsageRecord record, long hour)
        {
            var a = record.Attribution;
            return new Combination(
                hour, record.UpstreamModel, record.Alias, record.Deployment, record.Provider, a.KeyId, record.Status, record.Endpoint,
                a.User, a.Feature, a.CostCenter, a.Project, a.Env,
                TagText(a.Tags), record.RouteTarget);
        }

        /// <summary>The tags as one unambiguous text (each name and value led by its length), in name order.</summary>
        private static string TagText(IReadOnlyDictionary<string, string> tags)
        {
            if (tags.Count == 0)
            {
                return string.Empty;
            }

            if (tags.Count == 1)
            {
                var (name, value) = tags.First();
                return string.Create(CultureInfo.InvariantCulture, $"{name.Length}:{name}{value.Length}:{value}");
            }

            return string.Concat(tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key.Length}:{t.Key}{t.Value.Length}:{t.Value}")));
        }
    }
}
