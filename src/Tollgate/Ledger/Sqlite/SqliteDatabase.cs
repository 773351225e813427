using Microsoft.Data.Sqlite;

namespace Tollgate.Ledger.Sqlite;

/// <summary>One SQLite file's pooled connections: every embedded store beside the ledger opens its connections here.</summary>
public sealed class SqliteDatabase(string path)
{
    private readonly string _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
