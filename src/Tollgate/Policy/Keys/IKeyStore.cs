namespace Tollgate.Policy.Keys;

/// <summary>Where virtual keys are kept (hashes only): the embedded SQLite file, or PostgreSQL shared by replicas.</summary>
public interface IKeyStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<VirtualKey>> LoadAllAsync(CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a key (revocation, rotation and expiry are updates of the same row).</summary>
    Task SaveAsync(VirtualKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Keys saved since <paramref name="after"/> (a change counter; 0 for all) by any gateway on the store, with the
    /// counter to ask from next time; null when the store has only this gateway (nothing to follow).
    /// </summary>
    Task<(IReadOnlyList<VirtualKey> Keys, long Next)?> ChangedSinceAsync(long after, CancellationToken cancellationToken);
}
