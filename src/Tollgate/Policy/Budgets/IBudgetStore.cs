namespace Tollgate.Policy.Budgets;

/// <summary>Budgets set through the admin API: in the embedded SQLite file, or in PostgreSQL shared by replicas.</summary>
public interface IBudgetStore
{
    Task<IReadOnlyList<Budget>> LoadAllAsync(CancellationToken cancellationToken);

    Task SaveAsync(Budget budget, CancellationToken cancellationToken);

    /// <summary>
    /// Budgets saved since <paramref name="after"/> (a change counter) by any gateway on the store, and the counter to
    /// ask from next; null when the store is this gateway's own (nothing to follow).
    /// </summary>
    Task<(IReadOnlyList<Budget> Budgets, long Next)?> ChangedSinceAsync(long after, CancellationToken cancellationToken);
}
