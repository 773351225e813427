using System.Globalization;
using Microsoft.Data.Sqlite;
using Tollgate.Ledger.Rollups;

namespace Tollgate.Ledger.Sqlite;

/// <summary>
/// The embedded ledger's rollup tables in one write transaction: SQLite is in the process, so each row is looked up
/// by its own prepared statement, rebound.
/// </summary>
internal sealed class SqliteRollupTables(SqliteConnection connection, SqliteTransaction transaction) : IRollupTables
{
    private readonly byte[] _sums = new byte[RollupTotalsCodec.Size];

    public async Task<Dictionary<RollupRowKey, RollupTotals>> ReadRowsAsync(IReadOnlyCollection<RollupRowKey> keys, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<RollupRowKey, RollupTotals>();
        await using var select = Prepare("SELECT sums FROM spend_rollups WHERE dimension = $d AND hour = $h AND value = $v", "$d", "$h", "$v");
        foreach (var key in keys)
        {
            select.Parameters[0].Value = key.Dimension;
            select.Parameters[1].Value = key.Hour;
            select.Parameters[2].Value = key.Value;
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                rows[key] = SqliteRollups.Totals(reader, 0);
            }
        }

        return rows;
    }

    public async Task<Dictionary<(string Dimension, long Hour), int>> CountValuesAsync(IReadOnlyCollection<(string Dimension, long Hour)> pairs, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<(string Dimension, long Hour), int>();
        await using var count = Prepare("SELECT COUNT(*) FROM spend_rollups WHERE dimension = $d AND hour = $h AND value <> $more", "$d", "$h", "$more");
        foreach (var (dimension, hour) in pairs)
        {
            count.Parameters[0].Value = dimension;
            count.Parameters[1].Value = hour;
            count.Parameters[2].Value = RollupDimensions.MoreValues;
            counts[(dimension, hour)] = Convert.ToInt32(await count.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        }

        return counts;
    }

    public async Task<Dictionary<long, HashSet<string>>> ReadTagNamesAsync(IReadOnlyCollection<long> hours, CancellationToken cancellationToken)
    {
        var names = new Dictionary<long, HashSet<string>>();
        await using var select = Prepare("SELECT dimension FROM rollup_tag_names WHERE hour = $h", "$h");
        foreach (var hour in hours)
        {
            var hourNames = names[hour] = [];
            select.Parameters[0].Value = hour;
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                hourNames.Add(reader.GetString(0));
            }
        }

        return names;
    }

    public async Task<Dictionary<long, List<(string Id, decimal Cost)>>> ReadTopAsync(IReadOnlyCollection<long> hours, CancellationToken cancellationToken)
    {
        var top = new Dictionary<long, List<(string Id, decimal Cost)>>();
        await using var select = Prepare("SELECT id, cost FROM rollup_top WHERE hour = $h", "$h");
        foreach (var hour in hours)
        {
            var kept = top[hour] = [];
            select.Parameters[0].Value = hour;
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                kept.Add((reader.GetString(0), SqliteRollups.Money(reader.GetString(1))));
            }
        }

        return top;
    }

    public async Task WriteAsync(
        IReadOnlyDictionary<RollupRowKey, RollupTotals> rows, IReadOnlyCollection<(string Dimension, long Hour)> newTagNames,
        IReadOnlyDictionary<long, List<(string Id, decimal Cost)>> top, CancellationToken cancellationToken)
    {
        await using (var upsert = Prepare("INSERT OR REPLACE INTO spend_rollups (dimension, hour, value, sums) VALUES ($d, $h, $v, $s)", "$d", "$h", "$v", "$s"))
        {
            foreach (var (key, totals) in rows)
            {
                RollupTotalsCodec.Write(totals, _sums);
                upsert.Parameters[0].Value = key.Dimension;
                upsert.Parameters[1].Value = key.Hour;
                upsert.Parameters[2].Value = key.Value;
                upsert.Parameters[3].Value = _sums;
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await using (var delete = Prepare("DELETE FROM rollup_top WHERE hour = $h", "$h"))
        await using (var insert = Prepare("INSERT INTO rollup_top (hour, id, cost) VALUES ($h, $id, $cost)", "$h", "$id", "$cost"))
        {
            foreach (var (hour, kept) in top)
            {
                delete.Parameters[0].Value = hour;
                await delete.ExecuteNonQueryAsync(cancellationToken);
                foreach (var (id, cost) in kept)
                {
                    insert.Parameters[0].Value = hour;
                    insert.Parameters[1].Value = id;
                    insert.Parameters[2].Value = SqliteLedgerStore.Money(cost);
                    await insert.ExecuteNonQueryAsync(cancellationToken);
                }
            }
        }

        await using var names = Prepare("INSERT OR IGNORE INTO rollup_tag_names (hour, dimension) VALUES ($h, $d)", "$h", "$d");
        foreach (var (dimension, hour) in newTagNames)
        {
            names.Parameters[0].Value = hour;
            names.Parameters[1].Value = dimension;
            await names.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = SqliteRollups.Command(connection, transaction, sql);
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }
}
