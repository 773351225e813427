using Tollgate.Policy.Alerts;

namespace Tollgate.Ledger.Sqlite;

/// <summary>Alerts sent, in the SQLite file (see <see cref="IAlertLog"/>).</summary>
public sealed class SqliteAlertLog(string databasePath) : IAlertLog
{
    private readonly SqliteDatabase _database = new(databasePath);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE IF NOT EXISTS sent_alerts (kind TEXT NOT NULL, subject TEXT NOT NULL, period TEXT NOT NULL, sent_ms INTEGER NOT NULL, PRIMARY KEY (kind, subject, period))";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> TryRecordAsync(string kind, string subject, string period, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT OR IGNORE INTO sent_alerts (kind, subject, period, sent_ms) VALUES ($kind, $subject, $period, $at)";
        command.Parameters.AddWithValue("$kind", kind);
        command.Parameters.AddWithValue("$subject", subject);
        command.Parameters.AddWithValue("$period", period);
        command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
