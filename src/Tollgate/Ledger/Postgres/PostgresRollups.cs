using Npgsql;
using Tollgate.Ledger.Rollups;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// The hourly rollups of the shared ledger. Several replicas write records at once, and an identity column does not
/// give the order they commit in, so there is no catch-up mark here: each append rolls up the records it inserted in
/// its own transaction (<see cref="RollUpAsync"/>), under an advisory lock every writer of rollups takes — the append,
/// a rebuild and retention — so the rows are read, added to and written back by one transaction at a time and always
/// equal the committed records to the last decimal. Readers take the rows in one snapshot. A database that had records
/// before its rollup tables is rolled up once at start (<see cref="RebuildAsync"/> with <c>onlyIfMissing</c>); until then, reports read raw.
/// </summary>
internal static class PostgresRollups
{
    /// <summary>The advisory lock rollup writers hold to their transaction's end ("rollups" in ASCII).</summary>
    public const long LockKey = 0x726F6C6C757073;

    /// <summary>The mark of complete rollups: every committed record is in them.</summary>
    public const long Complete = long.MaxValue;

    public const string Schema = """
        CREATE TABLE spend_rollups (
            dimension text NOT NULL, hour bigint NOT NULL, value text NOT NULL, sums bytea NOT NULL,
            PRIMARY KEY (dimension, hour, value));
        CREATE TABLE rollup_tag_names (hour bigint NOT NULL, dimension text NOT NULL, PRIMARY KEY (hour, dimension));
        CREATE TABLE rollup_top (hour bigint NOT NULL, id text NOT NULL, cost numeric NOT NULL, PRIMARY KEY (hour, id));
        CREATE TABLE rollup_state (name text PRIMARY KEY, value bigint NOT NULL);
        INSERT INTO rollup_state (name, value) SELECT 'complete', 1 WHERE NOT EXISTS (SELECT 1 FROM usage_records);
        """;

    public static async Task LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({LockKey})", connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Whether every committed record is in the rollups (false only before the first build of an older database).</summary>
    public static async Task<bool> IsCompleteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT count(*) FROM rollup_state WHERE name = 'complete'", connection, transaction);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! > 0;
    }

    /// <summary>Rolls up the records an append just inserted, in the append's transaction.</summary>
    public static async Task RollUpAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<UsageRecord> inserted, RollupLimits limits, CancellationToken cancellationToken)
    {
        var batch = new RollupBatch(limits);
        foreach (var record in inserted)
        {
            batch.Add(record);
        }

        if (batch.Count == 0)
        {
            return;
        }

        await LockAsync(connection, transaction, cancellationToken);
        await batch.WriteAsync(new PostgresRollupTables(connection, transaction), cancellationToken);
    }

    /// <summary>
    /// Drops the rollups and rolls up every record again, in one transaction: readers see the old rows until it commits,
    /// writers wait for it at the lock (their records are in the journal meanwhile).
    /// </summary>
    /// <param name="source">The database.</param>
    /// <param name="columns">The record columns <paramref name="read"/> reads, in its order.</param>
    /// <param name="read">Makes a record of a row.</param>
    /// <param name="limits">The caps.</param>
    /// <param name="onlyIfMissing">Do nothing when the rollups are already complete (another replica built them first).</param>
    /// <param name="cancellationToken">Stops the rebuild (nothing of it stays).</param>
    public static async Task RebuildAsync(
        NpgsqlDataSource source, string columns, Func<NpgsqlDataReader, UsageRecord> read, RollupLimits limits, bool onlyIfMissing, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAsync(connection, transaction, cancellationToken);
        if (onlyIfMissing && await IsCompleteAsync(connection, transaction, cancellationToken))
        {
            return;
        }

        await using (var clear = new NpgsqlCommand("DELETE FROM spend_rollups; DELETE FROM rollup_tag_names; DELETE FROM rollup_top;", connection, transaction))
        {
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }

        const int Chunk = 100_000;
        long after = 0;
        while (true)
        {
            var batch = new RollupBatch(limits);
            await using (var select = new NpgsqlCommand($"SELECT {columns}, seq FROM usage_records WHERE seq > $1 ORDER BY seq LIMIT {Chunk}", connection, transaction))
            {
                select.Parameters.Add(new NpgsqlParameter { Value = after });
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    after = reader.GetInt64(reader.FieldCount - 1);
                    batch.Add(read(reader));
                }
            }

            await batch.WriteAsync(new PostgresRollupTables(connection, transaction), cancellationToken);
            if (batch.Count < Chunk)
            {
                break;
            }
        }

        await using (var done = new NpgsqlCommand("INSERT INTO rollup_state (name, value) VALUES ('complete', 1) ON CONFLICT (name) DO NOTHING", connection, transaction))
        {
            await done.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// One dimension's rows over a range of hours, in one snapshot; see <see cref="IRollupStore.ScanRollupsAsync"/>.
    /// Before the first build there are no rows to trust: the mark is 0 and everything is read raw.
    /// </summary>
    public static async Task<RollupScan> ScanAsync(
        NpgsqlDataSource source, string dimension, long fromHour, long toHour, Action<long, string, RollupTotals> onRow, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        if (!await IsCompleteAsync(connection, transaction, cancellationToken))
        {
            return new RollupScan(0, new HashSet<long>());
        }

        var incomplete = new HashSet<long>();
        var hourTotals = new Dictionary<long, RollupTotals>();
        if (dimension.StartsWith(RollupDimensions.TagPrefix, StringComparison.Ordinal))
        {
            // Read first: an hour with too many tag names is incomplete for every tag, so its rows are not handed on.
            await using var select = new NpgsqlCommand("SELECT dimension, hour, sums FROM spend_rollups WHERE dimension IN ($1, $2) AND hour >= $3 AND hour < $4", connection, transaction);
            select.Parameters.Add(new NpgsqlParameter { Value = RollupDimensions.MoreTags });
            select.Parameters.Add(new NpgsqlParameter { Value = RollupDimensions.Total });
            select.Parameters.Add(new NpgsqlParameter { Value = fromHour });
            select.Parameters.Add(new NpgsqlParameter { Value = toHour });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (reader.GetString(0) == RollupDimensions.Total)
                {
                    hourTotals[reader.GetInt64(1)] = RollupTotalsCodec.Read(reader.GetFieldValue<byte[]>(2));
                }
                else
                {
                    incomplete.Add(reader.GetInt64(1));
                }
            }
        }

        await using (var rows = new NpgsqlCommand("SELECT hour, value, sums FROM spend_rollups WHERE dimension = $1 AND hour >= $2 AND hour < $3 ORDER BY hour", connection, transaction))
        {
            rows.Parameters.Add(new NpgsqlParameter { Value = dimension });
            rows.Parameters.Add(new NpgsqlParameter { Value = fromHour });
            rows.Parameters.Add(new NpgsqlParameter { Value = toHour });
            await using var reader = await rows.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
            var buffer = new RollupHourBuffer(incomplete, onRow);
            var sums = new byte[RollupTotalsCodec.Size];
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            while (await reader.ReadAsync(cancellationToken))
            {
                var hour = reader.GetInt64(0);
                var value = reader.GetString(1);
                value = values.TryGetValue(value, out var known) ? known : values[value] = value;
                var length = (int)reader.GetBytes(2, 0, sums, 0, sums.Length);
                buffer.Add(hour, value, sums.AsSpan(0, length));
            }

            buffer.Flush();
        }

        await transaction.CommitAsync(cancellationToken);
        return new RollupScan(Complete, incomplete) { HourTotals = hourTotals };
    }

    /// <summary>The kept most costly records of each hour in a range, and the mark, in one snapshot.</summary>
    public static async Task<(IReadOnlyList<(string Id, decimal Cost)> Top, long Mark)> ReadTopAsync(NpgsqlDataSource source, long fromHour, long toHour, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        if (!await IsCompleteAsync(connection, transaction, cancellationToken))
        {
            return ([], 0);
        }

        var top = new List<(string, decimal)>();
        await using var select = new NpgsqlCommand("SELECT id, cost FROM rollup_top WHERE hour >= $1 AND hour < $2", connection, transaction);
        select.Parameters.Add(new NpgsqlParameter { Value = fromHour });
        select.Parameters.Add(new NpgsqlParameter { Value = toHour });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            top.Add((reader.GetString(0), reader.GetDecimal(1)));
        }

        return (top, Complete);
    }
}
