using Npgsql;
using NpgsqlTypes;
using Tollgate.Ledger.Rollups;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// The shared ledger's rollup tables in one write transaction: every read and write is one statement over arrays
/// (<c>unnest</c>), since each is a round trip to the server. The caller holds <see cref="PostgresRollups.LockKey"/>,
/// so no other replica changes these rows between the reads and the writes.
/// </summary>
internal sealed class PostgresRollupTables(NpgsqlConnection connection, NpgsqlTransaction transaction) : IRollupTables
{
    public async Task<Dictionary<RollupRowKey, RollupTotals>> ReadRowsAsync(IReadOnlyCollection<RollupRowKey> keys, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<RollupRowKey, RollupTotals>(keys.Count);
        await using var select = Command("""
            SELECT r.dimension, r.hour, r.value, r.sums
            FROM unnest($1::text[], $2::bigint[], $3::text[]) AS k(dimension, hour, value)
            JOIN spend_rollups r ON r.dimension = k.dimension AND r.hour = k.hour AND r.value = k.value
            """);
        select.Parameters.Add(Array(keys.Select(k => k.Dimension), NpgsqlDbType.Text));
        select.Parameters.Add(Array(keys.Select(k => k.Hour), NpgsqlDbType.Bigint));
        select.Parameters.Add(Array(keys.Select(k => k.Value), NpgsqlDbType.Text));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows[new RollupRowKey(reader.GetString(0), reader.GetInt64(1), reader.GetString(2))] = RollupTotalsCodec.Read(reader.GetFieldValue<byte[]>(3));
        }

        return rows;
    }

    public async Task<Dictionary<(string Dimension, long Hour), int>> CountValuesAsync(IReadOnlyCollection<(string Dimension, long Hour)> pairs, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<(string Dimension, long Hour), int>();
        if (pairs.Count == 0)
        {
            return counts;
        }

        await using var select = Command("""
            SELECT r.dimension, r.hour, count(*)
            FROM unnest($1::text[], $2::bigint[]) AS k(dimension, hour)
            JOIN spend_rollups r ON r.dimension = k.dimension AND r.hour = k.hour
            WHERE r.value <> $3
            GROUP BY r.dimension, r.hour
            """);
        select.Parameters.Add(Array(pairs.Select(p => p.Dimension), NpgsqlDbType.Text));
        select.Parameters.Add(Array(pairs.Select(p => p.Hour), NpgsqlDbType.Bigint));
        select.Parameters.Add(new NpgsqlParameter { Value = RollupDimensions.MoreValues });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[(reader.GetString(0), reader.GetInt64(1))] = checked((int)reader.GetInt64(2));
        }

        return counts;
    }

    public async Task<Dictionary<long, HashSet<string>>> ReadTagNamesAsync(IReadOnlyCollection<long> hours, CancellationToken cancellationToken)
    {
        var names = hours.ToDictionary(h => h, _ => new HashSet<string>(StringComparer.Ordinal));
        await using var select = Command("SELECT hour, dimension FROM rollup_tag_names WHERE hour = ANY($1)");
        select.Parameters.Add(Array(hours, NpgsqlDbType.Bigint));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names[reader.GetInt64(0)].Add(reader.GetString(1));
        }

        return names;
    }

    public async Task<Dictionary<long, List<(string Id, decimal Cost)>>> ReadTopAsync(IReadOnlyCollection<long> hours, CancellationToken cancellationToken)
    {
        var top = hours.ToDictionary(h => h, _ => new List<(string Id, decimal Cost)>());
        await using var select = Command("SELECT hour, id, cost FROM rollup_top WHERE hour = ANY($1)");
        select.Parameters.Add(Array(hours, NpgsqlDbType.Bigint));
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            top[reader.GetInt64(0)].Add((reader.GetString(1), reader.GetDecimal(2)));
        }

        return top;
    }

    public async Task WriteAsync(
        IReadOnlyDictionary<RollupRowKey, RollupTotals> rows, IReadOnlyCollection<(string Dimension, long Hour)> newTagNames,
        IReadOnlyDictionary<long, List<(string Id, decimal Cost)>> top, CancellationToken cancellationToken)
    {
        await using (var upsert = Command("""
            INSERT INTO spend_rollups (dimension, hour, value, sums)
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[])
            ON CONFLICT (dimension, hour, value) DO UPDATE SET sums = excluded.sums
            """))
        {
            upsert.Parameters.Add(Array(rows.Keys.Select(k => k.Dimension), NpgsqlDbType.Text));
            upsert.Parameters.Add(Array(rows.Keys.Select(k => k.Hour), NpgsqlDbType.Bigint));
            upsert.Parameters.Add(Array(rows.Keys.Select(k => k.Value), NpgsqlDbType.Text));
            upsert.Parameters.Add(Array(rows.Values.Select(Encode), NpgsqlDbType.Bytea));
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        if (top.Count > 0)
        {
            await using (var delete = Command("DELETE FROM rollup_top WHERE hour = ANY($1)"))
            {
                delete.Parameters.Add(Array(top.Keys, NpgsqlDbType.Bigint));
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }

            var kept = top.SelectMany(t => t.Value.Select(c => (Hour: t.Key, c.Id, c.Cost))).ToList();
            await using var insert = Command("INSERT INTO rollup_top (hour, id, cost) SELECT * FROM unnest($1::bigint[], $2::text[], $3::numeric[])");
            insert.Parameters.Add(Array(kept.Select(k => k.Hour), NpgsqlDbType.Bigint));
            insert.Parameters.Add(Array(kept.Select(k => k.Id), NpgsqlDbType.Text));
            insert.Parameters.Add(Array(kept.Select(k => k.Cost), NpgsqlDbType.Numeric));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        if (newTagNames.Count > 0)
        {
            await using var names = Command("INSERT INTO rollup_tag_names (hour, dimension) SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT DO NOTHING");
            names.Parameters.Add(Array(newTagNames.Select(n => n.Hour), NpgsqlDbType.Bigint));
            names.Parameters.Add(Array(newTagNames.Select(n => n.Dimension), NpgsqlDbType.Text));
            await names.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static byte[] Encode(RollupTotals totals)
    {
        var bytes = new byte[RollupTotalsCodec.Size];
        RollupTotalsCodec.Write(totals, bytes);
        return bytes;
    }

    private static NpgsqlParameter Array<T>(IEnumerable<T> values, NpgsqlDbType type) =>
        new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | type };

    private NpgsqlCommand Command(string sql) => new(sql, connection, transaction);
}
