using System.Globalization;
using Microsoft.Data.Sqlite;
using Tollgate.Policy.Budgets;

namespace Tollgate.Ledger.Sqlite;

/// <summary>Budgets set through the admin API, kept in the embedded database so they outlive a restart.</summary>
public sealed class SqliteBudgetStore(string databasePath) : IBudgetStore
{
    private readonly Ledger.Sqlite.SqliteDatabase _database = new(databasePath);

    public async Task<IReadOnlyList<Budget>> LoadAllAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, scope, value, period, limit_usd, hard, allow_unpriced FROM budgets ORDER BY name";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var budgets = new List<Budget>();
        while (await reader.ReadAsync(cancellationToken))
        {
            budgets.Add(new Budget(
                reader.GetString(0),
                reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                Enum.Parse<BudgetPeriod>(reader.GetString(3)),
                decimal.Parse(reader.GetString(4), CultureInfo.InvariantCulture),
                reader.GetInt64(5) != 0) { AllowUnpriced = reader.GetInt64(6) != 0 });
        }

        return budgets;
    }

    public async Task SaveAsync(Budget budget, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(budget);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR REPLACE INTO budgets (name, scope, value, period, limit_usd, hard, allow_unpriced) VALUES ($name, $scope, $value, $period, $limit, $hard, $unpriced)";
        command.Parameters.AddWithValue("$name", budget.Name);
        command.Parameters.AddWithValue("$scope", budget.Scope);
        command.Parameters.AddWithValue("$value", (object?)budget.Value ?? DBNull.Value);
        command.Parameters.AddWithValue("$period", budget.Period.ToString());
        command.Parameters.AddWithValue("$limit", budget.LimitUsd.ToString(CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$hard", budget.Hard ? 1 : 0);
        command.Parameters.AddWithValue("$unpriced", budget.AllowUnpriced ? 1 : 0);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The file is this gateway's own: every change already went through its admin API.</summary>
    public Task<(IReadOnlyList<Budget> Budgets, long Next)?> ChangedSinceAsync(long after, CancellationToken cancellationToken) =>
        Task.FromResult<(IReadOnlyList<Budget>, long)?>(null);

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await _database.OpenAsync(cancellationToken);
        await using var create = connection.CreateCommand();
        create.CommandText = "CREATE TABLE IF NOT EXISTS budgets (name TEXT PRIMARY KEY, scope TEXT NOT NULL, value TEXT, period TEXT NOT NULL, limit_usd TEXT NOT NULL, hard INTEGER NOT NULL, allow_unpriced INTEGER NOT NULL DEFAULT 0)";
        await create.ExecuteNonQueryAsync(cancellationToken);

        // Databases from before 'unpriced' existed get the column, refusing as the default does.
        create.CommandText = "SELECT COUNT(*) FROM pragma_table_info('budgets') WHERE name = 'allow_unpriced'";
        if (Convert.ToInt64(await create.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
        {
            create.CommandText = "ALTER TABLE budgets ADD COLUMN allow_unpriced INTEGER NOT NULL DEFAULT 0";
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        return connection;
    }
}
