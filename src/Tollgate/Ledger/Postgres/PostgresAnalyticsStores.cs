using Npgsql;
using NpgsqlTypes;
using Tollgate.Analytics.Anomalies;
using Tollgate.Analytics.UnitEconomics;

namespace Tollgate.Ledger.Postgres;

/// <summary>Anomalies found, shared by replicas (<see cref="IAnomalyStore"/>): the first replica to store one alerts it.</summary>
public sealed class PostgresAnomalyStore(NpgsqlDataSource source) : IAnomalyStore
{
    /// <summary>The schema is the migrations' (<see cref="PostgresMigrations"/>), applied with the ledger's.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresMigrations.ApplyAsync(source, cancellationToken);

    public async Task<bool> TryAddAsync(SpendAnomaly anomaly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(anomaly);
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            INSERT INTO spend_anomalies (kind, dimension, value, period, cost_usd, baseline_usd, detected_ms)
            VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING
            """, connection);
        foreach (var value in new object[] { anomaly.Kind, anomaly.Dimension, anomaly.Value, anomaly.Period, anomaly.CostUsd, anomaly.BaselineUsd, anomaly.DetectedAt.ToUnixTimeMilliseconds() })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<IReadOnlyList<SpendAnomaly>> ListAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT kind, dimension, value, period, cost_usd, baseline_usd, detected_ms FROM spend_anomalies WHERE detected_ms >= $1 ORDER BY detected_ms DESC, period DESC", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = since.ToUnixTimeMilliseconds() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var anomalies = new List<SpendAnomaly>();
        while (await reader.ReadAsync(cancellationToken))
        {
            anomalies.Add(new SpendAnomaly(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetDecimal(4), reader.GetDecimal(5), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6))));
        }

        return anomalies;
    }
}

/// <summary>Outcomes shared by replicas (<see cref="IOutcomeStore"/>): reported through any, counted by every one's unit economics.</summary>
public sealed class PostgresOutcomeStore(NpgsqlDataSource source) : IOutcomeStore
{
    /// <summary>The schema is the migrations' (<see cref="PostgresMigrations"/>), applied with the ledger's.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresMigrations.ApplyAsync(source, cancellationToken);

    public async Task AddAsync(Outcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            INSERT INTO outcomes (id, ts_ms, request_id, user_id, feature, conversions, revenue_usd, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = outcome.Id });
        command.Parameters.Add(new NpgsqlParameter { Value = outcome.At.ToUnixTimeMilliseconds() });
        foreach (var text in new[] { outcome.RequestId, outcome.User, outcome.Feature })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)text ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        }

        command.Parameters.Add(new NpgsqlParameter { Value = outcome.Conversions });
        command.Parameters.Add(new NpgsqlParameter { Value = outcome.RevenueUsd });
        command.Parameters.Add(new NpgsqlParameter { Value = outcome.KeyId });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<Outcome>> ListAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            $"SELECT {StoredRows.OutcomeColumns} FROM outcomes WHERE ts_ms >= $1 AND ts_ms < $2 ORDER BY ts_ms", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = from.ToUnixTimeMilliseconds() });
        command.Parameters.Add(new NpgsqlParameter { Value = to == DateTimeOffset.MaxValue ? long.MaxValue : to.ToUnixTimeMilliseconds() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var outcomes = new List<Outcome>();
        while (await reader.ReadAsync(cancellationToken))
        {
            outcomes.Add(StoredRows.Outcome(reader));
        }

        return outcomes;
    }
}
