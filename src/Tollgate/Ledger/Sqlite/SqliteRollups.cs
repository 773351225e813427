using System.Globalization;
using Microsoft.Data.Sqlite;
using Tollgate.Ledger.Rollups;

namespace Tollgate.Ledger.Sqlite;

/// <summary>
/// The hourly rollups of the embedded ledger: the table, the catch-up that rolls up records past its mark in one
/// transaction with the mark, and the snapshot read. Money stays decimal text and is added in <see cref="decimal"/>
/// (read, add, write back), so a rollup equals the raw records' sum to the last decimal.
/// </summary>
internal static class SqliteRollups
{
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS spend_rollups (
            dimension TEXT NOT NULL, hour INTEGER NOT NULL, value TEXT NOT NULL,
            requests INTEGER NOT NULL, input_tokens INTEGER NOT NULL, cached_input_tokens INTEGER NOT NULL,
            cache_write_tokens INTEGER NOT NULL, cache_write_1h_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL, estimated_requests INTEGER NOT NULL, unpriced_requests INTEGER NOT NULL,
            cost_input TEXT NOT NULL, cost_cached_input TEXT NOT NULL, cost_cache_write TEXT NOT NULL, cost_output TEXT NOT NULL,
            cost_reasoning TEXT NOT NULL, cost_total TEXT NOT NULL, cache_savings TEXT NOT NULL,
            PRIMARY KEY (dimension, hour, value)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rollup_tag_names (hour INTEGER NOT NULL, dimension TEXT NOT NULL, PRIMARY KEY (hour, dimension)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rollup_top (hour INTEGER NOT NULL, id TEXT NOT NULL, cost TEXT NOT NULL, PRIMARY KEY (hour, id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS rollup_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT OR IGNORE INTO rollup_state (name, value) VALUES ('mark', 0);
        """;

    private const string Sums =
        "requests, input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, " +
        "estimated_requests, unpriced_requests, cost_input, cost_cached_input, cost_cache_write, cost_output, cost_reasoning, cost_total, cache_savings";

    /// <summary>Rolls up the records after the mark (at most <paramref name="maxRecords"/>) and moves the mark, in one transaction.</summary>
    public static async Task<int> RollUpAsync(SqliteConnection connection, string columns, Func<SqliteDataReader, int, UsageRecord> read, RollupLimits limits, int maxRecords, CancellationToken cancellationToken)
    {
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var mark = await MarkAsync(connection, transaction, cancellationToken);
        var batch = new Batch(connection, transaction, limits);
        var last = mark;
        var count = 0;
        await using (var select = Command(connection, transaction, $"SELECT rowid, {columns} FROM usage_records WHERE rowid > $mark ORDER BY rowid LIMIT $limit"))
        {
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
            return 0;
        }

        await batch.WriteAsync(cancellationToken);
        await using (var update = Command(connection, transaction, "UPDATE rollup_state SET value = $mark WHERE name = 'mark'"))
        {
            update.Parameters.AddWithValue("$mark", last);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return count;
    }

    public static async Task ClearAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var clear = Command(connection, transaction, "DELETE FROM spend_rollups; DELETE FROM rollup_tag_names; DELETE FROM rollup_top; UPDATE rollup_state SET value = 0 WHERE name = 'mark';");
        await clear.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>One dimension's rows over a range of hours and the mark, in one read transaction (one snapshot).</summary>
    public static async Task<RollupSnapshot> ReadAsync(SqliteConnection connection, string dimension, long fromHour, long toHour, CancellationToken cancellationToken)
    {
        await using var transaction = connection.BeginTransaction(deferred: true);
        await using (var probe = Command(connection, transaction, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'rollup_state'"))
        {
            // A ledger no gateway of this version has opened yet: no rollups, everything is read raw.
            if (Convert.ToInt64(await probe.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
            {
                return new RollupSnapshot([], 0, new HashSet<long>());
            }
        }

        var mark = await MarkAsync(connection, transaction, cancellationToken);
        var rows = new List<RollupRow>();
        var incomplete = new HashSet<long>();
        await using (var select = Command(connection, transaction, $"SELECT hour, value, {Sums} FROM spend_rollups WHERE dimension = $dimension AND hour >= $from AND hour < $to"))
        {
            select.Parameters.AddWithValue("$dimension", dimension);
            select.Parameters.AddWithValue("$from", fromHour);
            select.Parameters.AddWithValue("$to", toHour);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var hour = reader.GetInt64(0);
                var value = reader.GetString(1);
                if (value == RollupDimensions.MoreValues)
                {
                    incomplete.Add(hour);
                }
                else
                {
                    rows.Add(new RollupRow(hour, value, Totals(reader, 2)));
                }
            }
        }

        var hourTotals = new Dictionary<long, RollupTotals>();
        if (dimension.StartsWith(RollupDimensions.TagPrefix, StringComparison.Ordinal))
        {
            await using var select = Command(connection, transaction, $"SELECT dimension, hour, {Sums} FROM spend_rollups WHERE dimension IN ($more, $total) AND hour >= $from AND hour < $to");
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

        await transaction.CommitAsync(cancellationToken);
        return new RollupSnapshot(rows, mark, incomplete) { HourTotals = hourTotals };
    }

    /// <summary>The kept most costly records of each hour in a range, and the mark, in one snapshot.</summary>
    public static async Task<(IReadOnlyList<(string Id, decimal Cost)> Top, long Mark)> ReadTopAsync(SqliteConnection connection, long fromHour, long toHour, CancellationToken cancellationToken)
    {
        await using var transaction = connection.BeginTransaction(deferred: true);
        await using (var probe = Command(connection, transaction, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'rollup_top'"))
        {
            if (Convert.ToInt64(await probe.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
            {
                return ([], 0);
            }
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

    private static RollupTotals Totals(SqliteDataReader row, int first) => new()
    {
        Requests = row.GetInt64(first),
        InputTokens = row.GetInt64(first + 1),
        CachedInputTokens = row.GetInt64(first + 2),
        CacheWriteTokens = row.GetInt64(first + 3),
        CacheWrite1hTokens = row.GetInt64(first + 4),
        OutputTokens = row.GetInt64(first + 5),
        ReasoningTokens = row.GetInt64(first + 6),
        EstimatedRequests = row.GetInt64(first + 7),
        UnpricedRequests = row.GetInt64(first + 8),
        CostInput = Money(row.GetString(first + 9)),
        CostCachedInput = Money(row.GetString(first + 10)),
        CostCacheWrite = Money(row.GetString(first + 11)),
        CostOutput = Money(row.GetString(first + 12)),
        CostReasoning = Money(row.GetString(first + 13)),
        CostTotal = Money(row.GetString(first + 14)),
        CacheSavings = Money(row.GetString(first + 15)),
    };

    private static decimal Money(string text) => decimal.Parse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);

    /// <summary>
    /// One catch-up's rows: each (dimension, hour, value) the records touch, started from its stored row if it has one,
    /// with the caps applied to the dimensions clients choose.
    /// </summary>
    private sealed class Batch(SqliteConnection connection, SqliteTransaction transaction, RollupLimits limits)
    {
        private readonly Dictionary<(string Dimension, long Hour, string Value), RollupTotals> _rows = [];
        private readonly Dictionary<(string Dimension, long Hour), int> _valueCounts = [];
        private readonly Dictionary<long, HashSet<string>> _tagNames = [];
        private readonly HashSet<(string Dimension, long Hour)> _newTagNames = [];
        private readonly Dictionary<long, List<(string Id, decimal Cost)>> _top = [];

        public async Task AddAsync(UsageRecord record, CancellationToken cancellationToken)
        {
            var hour = RollupDimensions.HourOf(record.Timestamp);
            if (record.Cost.Total is { } cost)
            {
                (_top.TryGetValue(hour, out var candidates) ? candidates : _top[hour] = []).Add((record.Id, cost));
            }

            foreach (var (dimension, value) in RollupDimensions.Of(record))
            {
                if (dimension.StartsWith(RollupDimensions.TagPrefix, StringComparison.Ordinal) && !await AdmitTagAsync(dimension, hour, cancellationToken))
                {
                    (await RowAsync((RollupDimensions.MoreTags, hour, string.Empty), cancellationToken)).Add(record);
                    continue;
                }

                var key = (dimension, hour, value);
                if (!_rows.ContainsKey(key) && RollupDimensions.IsCapped(dimension) && !await ExistsAsync(key, cancellationToken))
                {
                    var counted = await ValueCountAsync(dimension, hour, cancellationToken);
                    if (counted >= limits.MaxValuesPerHour)
                    {
                        key = (dimension, hour, RollupDimensions.MoreValues);
                    }
                    else
                    {
                        _valueCounts[(dimension, hour)] = counted + 1;
                    }
                }

                (await RowAsync(key, cancellationToken)).Add(record);
            }
        }

        public async Task WriteAsync(CancellationToken cancellationToken)
        {
            await using var upsert = Command(connection, transaction, $"""
                INSERT OR REPLACE INTO spend_rollups (dimension, hour, value, {Sums})
                VALUES ($d, $h, $v, $n, $i, $c, $w, $w1, $o, $r, $e, $u, $ci, $cc, $cw, $co, $cr, $ct, $cs)
                """);
            foreach (var ((dimension, hour, value), t) in _rows)
            {
                upsert.Parameters.Clear();
                upsert.Parameters.AddWithValue("$d", dimension);
                upsert.Parameters.AddWithValue("$h", hour);
                upsert.Parameters.AddWithValue("$v", value);
                upsert.Parameters.AddWithValue("$n", t.Requests);
                upsert.Parameters.AddWithValue("$i", t.InputTokens);
                upsert.Parameters.AddWithValue("$c", t.CachedInputTokens);
                upsert.Parameters.AddWithValue("$w", t.CacheWriteTokens);
                upsert.Parameters.AddWithValue("$w1", t.CacheWrite1hTokens);
                upsert.Parameters.AddWithValue("$o", t.OutputTokens);
                upsert.Parameters.AddWithValue("$r", t.ReasoningTokens);
                upsert.Parameters.AddWithValue("$e", t.EstimatedRequests);
                upsert.Parameters.AddWithValue("$u", t.UnpricedRequests);
                upsert.Parameters.AddWithValue("$ci", Text(t.CostInput));
                upsert.Parameters.AddWithValue("$cc", Text(t.CostCachedInput));
                upsert.Parameters.AddWithValue("$cw", Text(t.CostCacheWrite));
                upsert.Parameters.AddWithValue("$co", Text(t.CostOutput));
                upsert.Parameters.AddWithValue("$cr", Text(t.CostReasoning));
                upsert.Parameters.AddWithValue("$ct", Text(t.CostTotal));
                upsert.Parameters.AddWithValue("$cs", Text(t.CacheSavings));
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }

            await WriteTopAsync(cancellationToken);
            await using var names = Command(connection, transaction, "INSERT OR IGNORE INTO rollup_tag_names (hour, dimension) VALUES ($h, $d)");
            foreach (var (dimension, hour) in _newTagNames)
            {
                names.Parameters.Clear();
                names.Parameters.AddWithValue("$h", hour);
                names.Parameters.AddWithValue("$d", dimension);
                await names.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        private static string Text(decimal value) => SqliteLedgerStore.Money(value);

        /// <summary>Each touched hour keeps its <see cref="RollupLimits.TopPerHour"/> most costly priced records: the hour's stored ones and the new ones, merged.</summary>
        private async Task WriteTopAsync(CancellationToken cancellationToken)
        {
            foreach (var (hour, candidates) in _top)
            {
                await using (var select = Command(connection, transaction, "SELECT id, cost FROM rollup_top WHERE hour = $h"))
                {
                    select.Parameters.AddWithValue("$h", hour);
                    await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                    while (await reader.ReadAsync(cancellationToken))
                    {
                        candidates.Add((reader.GetString(0), Money(reader.GetString(1))));
                    }
                }

                var kept = candidates.OrderByDescending(c => c.Cost).ThenBy(c => c.Id, StringComparer.Ordinal).Take(limits.TopPerHour).ToList();
                await using (var delete = Command(connection, transaction, "DELETE FROM rollup_top WHERE hour = $h"))
                {
                    delete.Parameters.AddWithValue("$h", hour);
                    await delete.ExecuteNonQueryAsync(cancellationToken);
                }

                await using var insert = Command(connection, transaction, "INSERT INTO rollup_top (hour, id, cost) VALUES ($h, $id, $cost)");
                foreach (var (id, cost) in kept)
                {
                    insert.Parameters.Clear();
                    insert.Parameters.AddWithValue("$h", hour);
                    insert.Parameters.AddWithValue("$id", id);
                    insert.Parameters.AddWithValue("$cost", Text(cost));
                    await insert.ExecuteNonQueryAsync(cancellationToken);
                }
            }
        }

        /// <summary>The row being built for a key: its stored sums the first time it is touched, or empty.</summary>
        private async Task<RollupTotals> RowAsync((string Dimension, long Hour, string Value) key, CancellationToken cancellationToken)
        {
            if (_rows.TryGetValue(key, out var totals))
            {
                return totals;
            }

            await using var select = Command(connection, transaction, $"SELECT {Sums} FROM spend_rollups WHERE dimension = $d AND hour = $h AND value = $v");
            select.Parameters.AddWithValue("$d", key.Dimension);
            select.Parameters.AddWithValue("$h", key.Hour);
            select.Parameters.AddWithValue("$v", key.Value);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            totals = await reader.ReadAsync(cancellationToken) ? Totals(reader, 0) : new RollupTotals();
            _rows[key] = totals;
            return totals;
        }

        private async Task<bool> ExistsAsync((string Dimension, long Hour, string Value) key, CancellationToken cancellationToken)
        {
            await using var select = Command(connection, transaction, "SELECT 1 FROM spend_rollups WHERE dimension = $d AND hour = $h AND value = $v");
            select.Parameters.AddWithValue("$d", key.Dimension);
            select.Parameters.AddWithValue("$h", key.Hour);
            select.Parameters.AddWithValue("$v", key.Value);
            return await select.ExecuteScalarAsync(cancellationToken) is not null;
        }

        private async Task<int> ValueCountAsync(string dimension, long hour, CancellationToken cancellationToken)
        {
            if (_valueCounts.TryGetValue((dimension, hour), out var count))
            {
                return count;
            }

            await using var select = Command(connection, transaction, "SELECT COUNT(*) FROM spend_rollups WHERE dimension = $d AND hour = $h AND value <> $more");
            select.Parameters.AddWithValue("$d", dimension);
            select.Parameters.AddWithValue("$h", hour);
            select.Parameters.AddWithValue("$more", RollupDimensions.MoreValues);
            count = Convert.ToInt32(await select.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            _valueCounts[(dimension, hour)] = count;
            return count;
        }

        /// <summary>Whether a tag name has rows of its own in this hour: it has, or the hour has room for one more.</summary>
        private async Task<bool> AdmitTagAsync(string dimension, long hour, CancellationToken cancellationToken)
        {
            if (!_tagNames.TryGetValue(hour, out var names))
            {
                names = [];
                await using var select = Command(connection, transaction, "SELECT dimension FROM rollup_tag_names WHERE hour = $h");
                select.Parameters.AddWithValue("$h", hour);
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

            if (names.Count >= limits.MaxTagNamesPerHour)
            {
                return false;
            }

            names.Add(dimension);
            _newTagNames.Add((dimension, hour));
            return true;
        }
    }
}
