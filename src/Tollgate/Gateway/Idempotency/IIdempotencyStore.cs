namespace Tollgate.Gateway.Idempotency;

/// <summary>Answers kept for idempotent replay: in the embedded SQLite file, or in PostgreSQL shared by replicas.</summary>
public interface IIdempotencyStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>The answer kept for <paramref name="caller"/>'s <paramref name="key"/> since <paramref name="notBefore"/>, if any.</summary>
    Task<StoredResponse?> FindAsync(string caller, string key, DateTimeOffset notBefore, CancellationToken cancellationToken);

    /// <summary>Keeps <paramref name="response"/>; an expired row under the same key is replaced.</summary>
    Task SaveAsync(string caller, string key, StoredResponse response, CancellationToken cancellationToken);

    /// <summary>Deletes answers kept since before <paramref name="cutoff"/>; returns how many.</summary>
    Task<int> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}
