namespace Tollgate.Ledger;

/// <summary>Durable storage of usage records. SQLite is the embedded default; PostgreSQL fills the same interface.</summary>
public interface ILedgerStore : IAsyncDisposable
{
    /// <summary>Creates or upgrades the schema.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Appends a batch in one transaction.</summary>
    Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken);

    /// <summary>
    /// Reads records whose timestamp is in [<paramref name="from"/>, <paramref name="to"/>), oldest first. The end is
    /// given to the query, not only checked by the caller: a server database would otherwise send every later record.
    /// </summary>
    IAsyncEnumerable<UsageRecord> ReadAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}
