using Tollgate.Configuration;
using Tollgate.Ledger;

namespace Tollgate.Cli;

/// <summary>The ledger a config names, for the commands that read it: PostgreSQL when <c>storage.postgres</c> is set, else the SQLite file.</summary>
internal static class ConfiguredLedger
{
    /// <summary>
    /// Opens and initialises it (a ledger an earlier version wrote gains this version's columns, as the gateway does at
    /// start); null, after saying so on standard error, when the SQLite file does not exist yet.
    /// </summary>
    public static async Task<ILedgerStore?> OpenAsync(StorageConfig storage, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (storage.PostgresConnection is null && !File.Exists(storage.SqlitePath))
        {
            await Console.Error.WriteLineAsync($"No ledger at {Path.GetFullPath(storage.SqlitePath)} yet: start the gateway and send a request first.");
            return null;
        }

        ILedgerStore ledger = storage.PostgresConnection is { } postgres ? Ledger.Postgres.PostgresLedgerStore.Open(postgres) : new Ledger.Sqlite.SqliteLedgerStore(storage.SqlitePath);
        await ledger.InitializeAsync(cancellationToken);
        return ledger;
    }
}
