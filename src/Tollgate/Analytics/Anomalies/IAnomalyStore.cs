namespace Tollgate.Analytics.Anomalies;

/// <summary>
/// Anomalies found so far: one per kind, dimension, value and period, so that a later check, a restart or another
/// replica that finds the same anomaly again neither stores nor alerts it twice. SQLite beside the ledger, or
/// PostgreSQL shared by replicas.
/// </summary>
public interface IAnomalyStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Stores the anomaly unless it is known; true when it is new (and should be alerted).</summary>
    Task<bool> TryAddAsync(SpendAnomaly anomaly, CancellationToken cancellationToken);

    /// <summary>Anomalies detected since <paramref name="since"/>, newest first.</summary>
    Task<IReadOnlyList<SpendAnomaly>> ListAsync(DateTimeOffset since, CancellationToken cancellationToken);
}
