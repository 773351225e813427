using Npgsql;
using Tollgate.Policy.Budgets;

namespace Tollgate.Ledger.Postgres;

/// <summary>Budgets set through the admin API, in PostgreSQL for every replica; each save takes the next change counter.</summary>
public sealed class PostgresBudgetStore(NpgsqlDataSource source) : IBudgetStore
{
    public async Task<IReadOnlyList<Budget>> LoadAllAsync(CancellationToken cancellationToken) => (await ChangedSinceAsync(0, cancellationToken))!.Value.Budgets;

    public async Task<(IReadOnlyList<Budget> Budgets, long Next)?> ChangedSinceAsync(long after, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT name, scope, value, period, limit_usd, hard, allow_unpriced, version FROM admin_budgets WHERE version > $1 ORDER BY version", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = after });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var budgets = new List<Budget>();
        var next = after;
        while (await reader.ReadAsync(cancellationToken))
        {
            budgets.Add(new Budget(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                Enum.Parse<BudgetPeriod>(reader.GetString(3)), reader.GetDecimal(4), reader.GetBoolean(5)) { AllowUnpriced = reader.GetBoolean(6) });
            next = Math.Max(next, reader.GetInt64(7));
        }

        return (budgets, next);
    }

    public async Task SaveAsync(Budget budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(budget);
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            INSERT INTO admin_budgets (name, scope, value, period, limit_usd, hard, allow_unpriced, version)
            VALUES ($1, $2, $3, $4, $5, $6, $7, nextval('admin_budgets_version'))
            ON CONFLICT (name) DO UPDATE SET scope = EXCLUDED.scope, value = EXCLUDED.value, period = EXCLUDED.period,
                limit_usd = EXCLUDED.limit_usd, hard = EXCLUDED.hard, allow_unpriced = EXCLUDED.allow_unpriced, version = EXCLUDED.version
            """, connection);
        foreach (var value in new object?[] { budget.Name, budget.Scope, budget.Value, budget.Period.ToString(), budget.LimitUsd, budget.Hard, budget.AllowUnpriced })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
