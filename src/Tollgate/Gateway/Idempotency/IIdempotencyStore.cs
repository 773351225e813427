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

    /// <summary>
    /// Marks <paramref name="caller"/>'s <paramref name="key"/> as running on <paramref name="holder"/> from <paramref name="now"/> unless another
    /// gateway's claim since <paramref name="staleBefore"/> holds it; true when this one now does. (One gateway alone
    /// needs nothing here: its own claims are in its memory.)
    /// </summary>
    Task<bool> TryClaimAsync(string caller, string key, string holder, DateTimeOffset now, DateTimeOffset staleBefore, CancellationToken cancellationToken);

    /// <summary>Ends <paramref name="holder"/>'s claim on the key.</summary>
    Task ReleaseClaimAsync(string caller, string key, string holder, CancellationToken cancellationToken);
}
