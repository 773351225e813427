using Microsoft.Data.Sqlite;
using Tollgate.Analytics.Anomalies;

namespace Tollgate.Ledger.Sqlite;

/// <summary>Anomalies found so far, in the SQLite database beside the ledger (see <see cref="IAnomalyStore"/>).</summary>
public sealed class SqliteAnomalyStore(string databasePath) : IAnomalyStore
{
    private readonly Ledger.Sqlite.SqliteDatabase _database = new(databasePath);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS spend_anomalies (
                kind TEXT NOT NULL, dimension TEXT NOT NULL, value TEXT NOT NULL, period TEXT NOT NULL,
                cost_usd TEXT NOT NULL, baseline_usd TEXT NOT NULL, detected_ms INTEGER NOT NULL,
                PRIMARY KEY (kind, dimension, value, period)
            );
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> TryAddAsync(SpendAnomaly anomaly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(anomaly);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT OR IGNORE INTO spend_anomalies (kind, dimension, value, period, cost_usd, baseline_usd, detected_ms)
            VALUES ($kind, $dimension, $value, $period, $cost, $baseline, $detected)
            """;
        command.Parameters.AddWithValue("$kind", anomaly.Kind);
        command.Parameters.AddWithValue("$dimension", anomaly.Dimension);
        command.Parameters.AddWithValue("$value", anomaly.Value);
        command.Parameters.AddWithValue("$period", anomaly.Period);
        command.Parameters.AddWithValue("$cost", anomaly.CostUsd.ToString(System.Globalization.CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$baseline", anomaly.BaselineUsd.ToString(System.Globalization.CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$detected", anomaly.DetectedAt.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<SpendAnomaly>> ListAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, dimension, value, period, cost_usd, baseline_usd, detected_ms FROM spend_anomalies WHERE detected_ms >= $since ORDER BY detected_ms DESC, period DESC";
        command.Parameters.AddWithValue("$since", since.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var anomalies = new List<SpendAnomaly>();
        while (await reader.ReadAsync(cancellationToken))
        {
            anomalies.Add(new SpendAnomaly(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                decimal.Parse(reader.GetString(4), System.Globalization.CultureInfo.InvariantCulture),
                decimal.Parse(reader.GetString(5), System.Globalization.CultureInfo.InvariantCulture),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6))));
        }

        return anomalies;
    }
}
