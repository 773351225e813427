using Npgsql;
using Tollgate.Policy.RateLimits;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// Requests and tokens per minute in PostgreSQL (<c>rate_windows</c>: leased units per subject and clock minute). A lease locks
/// the minute's row and grants what keeps <c>used + previous × (1 − elapsed)</c> within the limit — the sliding-minute
/// estimate that assumes the previous minute's requests were spread evenly.
/// </summary>
public sealed class PostgresRateRoom(NpgsqlDataSource source) : ISharedRateRoom
{
    public async Task<long> LeaseAsync(string subject, DateTimeOffset minuteStart, long limit, long wanted, long minimum, double elapsedFraction, CancellationToken cancellationToken)
    {
        var minute = minuteStart.ToUnixTimeMilliseconds();
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand("INSERT INTO rate_windows (subject, minute_ms, used) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = subject });
            insert.Parameters.Add(new NpgsqlParameter { Value = minute });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        long used, previous;
        await using (var read = new NpgsqlCommand("""
            SELECT (SELECT used FROM rate_windows WHERE subject = $1 AND minute_ms = $2 FOR UPDATE),
                   COALESCE((SELECT used FROM rate_windows WHERE subject = $1 AND minute_ms = $2 - 60000), 0)
            """, connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter { Value = subject });
            read.Parameters.Add(new NpgsqlParameter { Value = minute });
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            (used, previous) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        var room = (long)Math.Floor(limit - used - (previous * (1 - Math.Clamp(elapsedFraction, 0, 1))));
        var granted = Math.Min(wanted, room);
        if (granted <= 0 || granted < minimum)
        {
            await transaction.RollbackAsync(cancellationToken);
            return 0;
        }

        await using (var update = new NpgsqlCommand("UPDATE rate_windows SET used = used + $3 WHERE subject = $1 AND minute_ms = $2", connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = subject });
            update.Parameters.Add(new NpgsqlParameter { Value = minute });
            update.Parameters.Add(new NpgsqlParameter { Value = granted });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return granted;
    }
}
