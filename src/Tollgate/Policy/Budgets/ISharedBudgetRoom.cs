namespace Tollgate.Policy.Budgets;

/// <summary>
/// Budgets shared by several gateway replicas (PostgreSQL: <c>Ledger/Postgres/PostgresBudgetRoom</c>). For each budget
/// and period the store keeps what has been spent and what is leased to replicas. A hard budget's replica admits
/// requests only against room it has leased, and a lease is granted only while spent + leased stays within the limit —
/// so the replicas together can never hold more than the limit, whatever their number and timing. A soft budget's
/// spend is added up there too, so that every replica shows, and alerts on, the total.
/// </summary>
public interface ISharedBudgetRoom
{
    /// <summary>
    /// Leases room for this replica: up to <paramref name="wantedUsd"/>, at least <paramref name="minimumUsd"/> (else
    /// nothing is granted). <paramref name="spentBeforeUsd"/> is what the ledger already holds for the period, used
    /// when the period is first seen. Returns what was granted.
    /// </summary>
    Task<decimal> LeaseAsync(string budget, DateTimeOffset periodStart, decimal limitUsd, decimal wantedUsd, decimal minimumUsd, decimal spentBeforeUsd, CancellationToken cancellationToken);

    /// <summary>
    /// Of this replica's lease, <paramref name="spentUsd"/> becomes spent and <paramref name="returnedUsd"/> goes back to
    /// the room. Returns the period's spent across the replicas (null if the store has no such period).
    /// </summary>
    Task<decimal?> SettleAsync(string budget, DateTimeOffset periodStart, decimal spentUsd, decimal returnedUsd, CancellationToken cancellationToken);

    /// <summary>
    /// Adds spend taken without a lease (a soft budget; zero only reads) and returns the period's spent across the
    /// replicas. <paramref name="spentBeforeUsd"/> is what the ledger held for the period, used when it is first seen.
    /// </summary>
    Task<decimal> AddSpentAsync(string budget, DateTimeOffset periodStart, decimal spentUsd, decimal spentBeforeUsd, CancellationToken cancellationToken);

    /// <summary>Claims the alert of a threshold in a period for this replica; false when another replica already sent it.</summary>
    Task<bool> ClaimAlertAsync(string budget, DateTimeOffset periodStart, int thresholdPercent, CancellationToken cancellationToken);

    /// <summary>Gives back every lease this replica holds: at start (what a crash left) and at shutdown.</summary>
    Task ReturnAllAsync(CancellationToken cancellationToken);
}
