namespace Tollgate.Ledger;

/// <summary>Durable storage of usage records. SQLite is the embedded default; PostgreSQL fills the same interface.</summary>
public interface ILedgerStore : IAsyncDisposable
{
    /// <summary>Creates or upgrades the schema.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Appends a batch in one transaction.</summary>
    Task AppendAsync(IReadOnlyList<UsageRecord> records, CancellationToken cancellationToken);

    /// <summary>Reads records whose timestamp is at or after <paramref name="since"/>, oldest first.</summary>
    IAsyncEnumerable<UsageRecord> ReadAsync(DateTimeOffset since, CancellationToken cancellationToken);
}
