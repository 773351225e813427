using Npgsql;
using Tollgate.Policy.Budgets;

namespace Tollgate.Ledger.Postgres;

/// <summary>
/// Budgets in PostgreSQL: <c>budget_periods</c> (spent and leased per budget and period), <c>budget_leases</c> (what
/// each replica holds) and <c>budget_alerts</c> (thresholds announced, and by which replica). A lease reads the period's row <c>FOR UPDATE</c> and grants only what
/// keeps spent + leased within the limit, so concurrent leases from any number of replicas serialise on the row and
/// can never together exceed it. The replica id is kept in the replica's data folder, so a restarted replica finds and
/// returns what it held before a crash.
/// </summary>
public sealed class PostgresBudgetRoom(NpgsqlDataSource source, string replica) : ISharedBudgetRoom, IAsyncDisposable
{
    public string Replica { get; } = replica;

    public async Task<decimal> LeaseAsync(string budget, DateTimeOffset periodStart, decimal limitUsd, decimal wantedUsd, decimal minimumUsd, decimal spentBeforeUsd, CancellationToken cancellationToken)
    {
        var period = periodStart.ToUnixTimeMilliseconds();
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, "INSERT INTO budget_periods (budget, period_ms, spent, leased) VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING",
            cancellationToken, budget, period, spentBeforeUsd);
        decimal spent, leased;
        await using (var read = Command(connection, transaction, "SELECT spent, leased FROM budget_periods WHERE budget = $1 AND period_ms = $2 FOR UPDATE", budget, period))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            (spent, leased) = (reader.GetDecimal(0), reader.GetDecimal(1));
        }

        var granted = Math.Min(wantedUsd, limitUsd - spent - leased);
        if (granted < minimumUsd || granted <= 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return 0;
        }

        await ExecuteAsync(connection, transaction, "UPDATE budget_periods SET leased = leased + $3 WHERE budget = $1 AND period_ms = $2", cancellationToken, budget, period, granted);
        await ExecuteAsync(connection, transaction,
            "INSERT INTO budget_leases (budget, period_ms, replica, amount) VALUES ($1, $2, $3, $4) ON CONFLICT (budget, period_ms, replica) DO UPDATE SET amount = budget_leases.amount + EXCLUDED.amount",
            cancellationToken, budget, period, Replica, granted);
        await transaction.CommitAsync(cancellationToken);
        return granted;
    }

    public async Task<decimal?> SettleAsync(string budget, DateTimeOffset periodStart, decimal spentUsd, decimal returnedUsd, CancellationToken cancellationToken)
    {
        var period = periodStart.ToUnixTimeMilliseconds();
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        decimal? spent;
        await using (var update = Command(connection, transaction, "UPDATE budget_periods SET spent = spent + $3, leased = leased - $3 - $4 WHERE budget = $1 AND period_ms = $2 RETURNING spent",
            budget, period, spentUsd, returnedUsd))
        {
            spent = await update.ExecuteScalarAsync(cancellationToken) as decimal?;
        }

        await ExecuteAsync(connection, transaction, "UPDATE budget_leases SET amount = amount - $4 - $5 WHERE budget = $1 AND period_ms = $2 AND replica = $3",
            cancellationToken, budget, period, Replica, spentUsd, returnedUsd);
        await transaction.CommitAsync(cancellationToken);
        return spent;
    }

    public async Task<decimal> AddSpentAsync(string budget, DateTimeOffset periodStart, decimal spentUsd, decimal spentBeforeUsd, CancellationToken cancellationToken)
    {
        var period = periodStart.ToUnixTimeMilliseconds();
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        if (spentUsd == 0)
        {
            // Only reading: no new row version unless the period is new.
            await using var read = Command(connection, null, "SELECT spent FROM budget_periods WHERE budget = $1 AND period_ms = $2", budget, period);
            if (await read.ExecuteScalarAsync(cancellationToken) is decimal known)
            {
                return known;
            }
        }

        await using var upsert = Command(connection, null, """
            INSERT INTO budget_periods (budget, period_ms, spent, leased) VALUES ($1, $2, $4 + $3, 0)
            ON CONFLICT (budget, period_ms) DO UPDATE SET spent = budget_periods.spent + $3 RETURNING spent
            """, budget, period, spentUsd, spentBeforeUsd);
        return (decimal)(await upsert.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<bool> ClaimAlertAsync(string budget, DateTimeOffset periodStart, int thresholdPercent, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var claim = Command(connection, null, "INSERT INTO budget_alerts (budget, period_ms, threshold, replica) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            budget, periodStart.ToUnixTimeMilliseconds(), thresholdPercent, Replica);
        return await claim.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task ReturnAllAsync(CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, """
            UPDATE budget_periods p SET leased = p.leased - l.amount
            FROM budget_leases l WHERE l.replica = $1 AND l.budget = p.budget AND l.period_ms = p.period_ms
            """, cancellationToken, Replica);
        await ExecuteAsync(connection, transaction, "DELETE FROM budget_leases WHERE replica = $1", cancellationToken, Replica);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The spent and leased totals of a budget's period (for tests and the admin view).</summary>
    public async Task<(decimal Spent, decimal Leased)> ReadAsync(string budget, DateTimeOffset periodStart, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null, "SELECT spent, leased FROM budget_periods WHERE budget = $1 AND period_ms = $2", budget, periodStart.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetDecimal(0), reader.GetDecimal(1)) : (0, 0);
    }

    /// <summary>Closes the data source (the gateway's is shared with its ledger store, which closes it).</summary>
    public ValueTask DisposeAsync() => source.DisposeAsync();

    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params object[] values)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = Command(connection, transaction, sql, values);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
