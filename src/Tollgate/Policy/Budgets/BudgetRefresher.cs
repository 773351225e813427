using Microsoft.Extensions.Logging;
using Tollgate.Ledger;

namespace Tollgate.Policy.Budgets;

/// <summary>
/// With budgets shared by replicas (PostgreSQL): every 500 ms, budgets set through any replica's admin API are put in
/// force here too (a new limit at once; a new scope or period counted from the ledger).
/// </summary>
public sealed class BudgetRefresher(BudgetGuard guard, IBudgetStore store, ILedgerStore ledger, TimeProvider time, ILogger<BudgetRefresher> logger)
    : SharedStateFollower(TimeSpan.FromMilliseconds(500), time, logger)
{
    /// <summary>How many of the latest changes each look reads again, so a save that committed late is not skipped.</summary>
    private const long RereadChanges = 100;

    private long _seen;

    protected override async Task<bool> FollowAsync(CancellationToken cancellationToken)
    {
        if (await store.ChangedSinceAsync(Math.Max(0, _seen - RereadChanges), cancellationToken) is not { } changed)
        {
            return false;
        }

        foreach (var budget in changed.Budgets)
        {
            await guard.UpsertAsync(budget, ledger, cancellationToken);
        }

        _seen = Math.Max(_seen, changed.Next);
        return true;
    }
}
