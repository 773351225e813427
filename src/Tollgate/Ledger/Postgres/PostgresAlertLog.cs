using Npgsql;
using Tollgate.Policy.Alerts;

namespace Tollgate.Ledger.Postgres;

/// <summary>Alerts sent, shared by replicas (see <see cref="IAlertLog"/>): the first to record one sends it.</summary>
public sealed class PostgresAlertLog(NpgsqlDataSource source) : IAlertLog
{
    /// <summary>The schema is the migrations' (<see cref="PostgresMigrations"/>), applied with the ledger's.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken) => PostgresMigrations.ApplyAsync(source, cancellationToken);

    public async Task<bool> TryRecordAsync(string kind, string subject, string period, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("INSERT INTO sent_alerts (kind, subject, period, sent_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", connection);
        foreach (var value in new object[] { kind, subject, period, at.ToUnixTimeMilliseconds() })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
