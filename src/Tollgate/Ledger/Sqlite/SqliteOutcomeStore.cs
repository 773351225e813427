using System.Globalization;
using Microsoft.Data.Sqlite;
using Tollgate.Analytics.UnitEconomics;

namespace Tollgate.Ledger.Sqlite;

/// <summary>Outcomes in the SQLite database beside the ledger (see <see cref="IOutcomeStore"/>).</summary>
public sealed class SqliteOutcomeStore(string databasePath) : IOutcomeStore
{
    private readonly Ledger.Sqlite.SqliteDatabase _database = new(databasePath);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS outcomes (
                id TEXT PRIMARY KEY, ts_ms INTEGER NOT NULL, request_id TEXT, user_id TEXT, feature TEXT,
                conversions INTEGER NOT NULL, revenue_usd TEXT NOT NULL, key_id TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS ix_outcomes_ts ON outcomes (ts_ms);
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task AddAsync(Outcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO outcomes (id, ts_ms, request_id, user_id, feature, conversions, revenue_usd, key_id)
            VALUES ($id, $ts, $request, $user, $feature, $conversions, $revenue, $key)
            """;
        command.Parameters.AddWithValue("$id", outcome.Id);
        command.Parameters.AddWithValue("$ts", outcome.At.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$request", (object?)outcome.RequestId ?? DBNull.Value);
        command.Parameters.AddWithValue("$user", (object?)outcome.User ?? DBNull.Value);
        command.Parameters.AddWithValue("$feature", (object?)outcome.Feature ?? DBNull.Value);
        command.Parameters.AddWithValue("$conversions", outcome.Conversions);
        command.Parameters.AddWithValue("$revenue", outcome.RevenueUsd.ToString(CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$key", outcome.KeyId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<Outcome>> ListAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {StoredRows.OutcomeColumns} FROM outcomes WHERE ts_ms >= $from AND ts_ms < $to ORDER BY ts_ms";
        command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", to == DateTimeOffset.MaxValue ? long.MaxValue : to.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var outcomes = new List<Outcome>();
        while (await reader.ReadAsync(cancellationToken))
        {
            outcomes.Add(StoredRows.Outcome(reader));
        }

        return outcomes;
    }
}
