namespace Tollgate.Analytics.UnitEconomics;

/// <summary>Outcomes clients report (conversions, revenue): SQLite beside the ledger, or PostgreSQL shared by replicas.</summary>
public interface IOutcomeStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    Task AddAsync(Outcome outcome, CancellationToken cancellationToken);

    /// <summary>Outcomes reported from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive), oldest first.</summary>
    Task<IReadOnlyList<Outcome>> ListAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}
