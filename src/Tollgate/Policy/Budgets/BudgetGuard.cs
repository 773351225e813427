using Tollgate.Gateway.Errors;
using Tollgate.Ledger;

namespace Tollgate.Policy.Budgets;

/// <summary>
/// Stage 4 (admit, budget part). Before a call, the request's worst-case cost is reserved on every budget it counts
/// against — under one lock, so concurrent requests cannot together pass a hard limit; one that does not fit a hard
/// budget gets 429 <c>budget_exceeded</c> with the period's reset time. After the call the reservation is settled to
/// the real cost, or released if nothing was billed. Accounts start from the ledger's spend in the current period.
/// </summary>
public sealed class BudgetGuard(IReadOnlyList<Budget> budgets, TimeZoneInfo zone, TimeProvider time, Alerts.AlertQueue? alerts = null, IReadOnlyList<int>? thresholds = null)
{
    private readonly IReadOnlyList<int> _thresholds = thresholds ?? [50, 80, 100];

    private readonly Lock _gate = new();
    private readonly List<BudgetAccount> _accounts = [.. budgets.Select(b => new BudgetAccount(b))];

    public bool Any
    {
        get
        {
            lock (_gate)
            {
                return _accounts.Count > 0;
            }
        }
    }

    /// <summary>
    /// Adds a budget, or changes one of the same name. A new limit or hardness applies to the running account (its
    /// spend and the reservations in flight are kept); a new scope or period starts an account counted from the ledger.
    /// </summary>
    public async Task UpsertAsync(Budget budget, ILedgerStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentNullException.ThrowIfNull(store);
        lock (_gate)
        {
            if (_accounts.Find(a => a.Budget.Name == budget.Name) is { } existing
                && existing.Budget with { LimitUsd = budget.LimitUsd, Hard = budget.Hard, AllowUnpriced = budget.AllowUnpriced } == budget)
            {
                existing.Budget = budget;
                return;
            }
        }

        var account = new BudgetAccount(budget);
        Roll(account, time.GetUtcNow());
        account.SpentUsd = await SpentAsync(store, budget, account.WindowStart, cancellationToken);

        lock (_gate)
        {
            account.AlertedThresholds.UnionWith(_thresholds.Where(t => Percent(account) >= t));
            _accounts.RemoveAll(a => a.Budget.Name == budget.Name);
            _accounts.Add(account);
        }
    }

    /// <summary>Counts the ledger's records of the current periods into the accounts (at start).</summary>
    public async Task LoadAsync(ILedgerStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!Any)
        {
            return;
        }

        var now = time.GetUtcNow();
        lock (_gate)
        {
            foreach (var account in _accounts)
            {
                Roll(account, now);
            }
        }

        List<BudgetAccount> accounts;
        lock (_gate)
        {
            accounts = [.. _accounts];
        }

        foreach (var account in accounts)
        {
            var spent = await SpentAsync(store, account.Budget, account.WindowStart, cancellationToken);
            lock (_gate)
            {
                account.SpentUsd += spent;
            }
        }

        lock (_gate)
        {
            // Thresholds the spend had already crossed before a restart were announced then.
            foreach (var account in _accounts)
            {
                account.AlertedThresholds.UnionWith(_thresholds.Where(t => Percent(account) >= t));
            }
        }
    }

    /// <summary>Reserves <paramref name="worstCaseUsd"/> on every budget that applies, or returns why not.</summary>
    /// <param name="attribution">Who the request is charged to.</param>
    /// <param name="worstCaseUsd">The most the request can cost, as far as it can be bounded.</param>
    /// <param name="unbounded">
    /// Why part of the cost cannot be bounded in advance (a model with no price, an input that cannot be counted), or
    /// null. A hard budget refuses such a request with a 400 unless it is set to allow unpriced requests.
    /// </param>
    public (BudgetReservation? Reservation, GatewayError? Error, decimal? Remaining) Admit(Attribution attribution, decimal worstCaseUsd, string? unbounded = null)
    {
        ArgumentNullException.ThrowIfNull(attribution);
        lock (_gate)
        {
            var applicable = Applicable(attribution);
            foreach (var account in applicable)
            {
                if (account.Budget.Hard && unbounded is not null && !account.Budget.AllowUnpriced)
                {
                    return (null, GatewayError.InvalidRequest(
                        $"The hard budget '{account.Budget.Name}' cannot hold this request's cost in advance: {unbounded}. (A budget set with 'unpriced: allow' admits such requests.)",
                        "unbounded_cost"), null);
                }

                if (account.Budget.Hard && account.RemainingUsd < worstCaseUsd)
                {
                    var reset = account.ResetsAt is { } at ? $" It resets at {at.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}." : " It does not reset.";
                    return (null, new GatewayError(429, "rate_limit_error", "budget_exceeded",
                        $"Budget '{account.Budget.Name}' (${account.Budget.LimitUsd} {account.Budget.Period.ToString().ToLowerInvariant()}) has ${Math.Max(0, account.RemainingUsd)} left; this request could cost up to ${worstCaseUsd}.{reset}"), null);
                }
            }

            var reservation = Reserve(applicable, worstCaseUsd);
            decimal? remaining = applicable.Count == 0 ? null : applicable.Min(a => a.RemainingUsd);
            return (reservation, null, remaining);
        }
    }

    /// <summary>
    /// Holds <paramref name="amountUsd"/> on every budget that applies without checking any limit: the hold of a batch
    /// admitted before a restart, taken again when the gateway starts.
    /// </summary>
    public BudgetReservation Hold(Attribution attribution, decimal amountUsd)
    {
        ArgumentNullException.ThrowIfNull(attribution);
        lock (_gate)
        {
            return Reserve(Applicable(attribution), amountUsd);
        }
    }

    /// <summary>The accounts of the budgets that apply to <paramref name="attribution"/>, each in its current period (under the lock).</summary>
    private List<BudgetAccount> Applicable(Attribution attribution)
    {
        var now = time.GetUtcNow();
        var applicable = _accounts.Where(a => a.Budget.Applies(attribution)).ToList();
        foreach (var account in applicable)
        {
            Roll(account, now);
        }

        return applicable;
    }

    /// <summary>Holds <paramref name="amountUsd"/> on each of <paramref name="accounts"/> (under the lock).</summary>
    private static BudgetReservation Reserve(List<BudgetAccount> accounts, decimal amountUsd)
    {
        foreach (var account in accounts)
        {
            account.ReservedUsd += amountUsd;
        }

        return new BudgetReservation(accounts, amountUsd);
    }

    /// <summary>Replaces the reservation by the real cost (zero releases it). Safe to call once per reservation on any path.</summary>
    public void Settle(BudgetReservation? reservation, decimal actualUsd)
    {
        if (reservation is null || !reservation.TryClose())
        {
            return;
        }

        lock (_gate)
        {
            foreach (var account in reservation.Accounts)
            {
                account.ReservedUsd -= reservation.AmountUsd;
                account.SpentUsd += actualUsd;
                foreach (var threshold in _thresholds.Where(t => Percent(account) >= t && account.AlertedThresholds.Add(t)))
                {
                    alerts?.Enqueue(new Alerts.BudgetAlert(account.Budget.Name, threshold, account.SpentUsd, account.Budget.LimitUsd,
                        account.Budget.Period.ToString().ToLowerInvariant(), account.ResetsAt, time.GetUtcNow()));
                }
            }
        }
    }

    public IReadOnlyList<(Budget Budget, decimal Spent, decimal Reserved, DateTimeOffset? ResetsAt)> Snapshot()
    {
        lock (_gate)
        {
            return [.. _accounts.Select(a => (a.Budget, a.SpentUsd, a.ReservedUsd, a.ResetsAt))];
        }
    }

    /// <summary>What the ledger records for a budget's scope since <paramref name="from"/>: from the hourly rollups where they answer.</summary>
    private static async Task<decimal> SpentAsync(ILedgerStore store, Budget budget, DateTimeOffset from, CancellationToken cancellationToken)
    {
        var spent = 0m;
        var global = budget.Scope == "global";
        await Ledger.Rollups.RollupReader.ReadAsync(
            store,
            global ? Ledger.Rollups.RollupDimensions.Total : budget.Scope,
            from == DateTimeOffset.MinValue ? DateTimeOffset.UnixEpoch : from,
            DateTimeOffset.MaxValue,
            _ => false,
            (_, value, totals) => spent += global || value == budget.Value ? totals.CostTotal : 0,
            record => spent += budget.Applies(record.Attribution) ? record.Cost.Total ?? 0 : 0,
            cancellationToken);
        return spent;
    }

    private void Roll(BudgetAccount account, DateTimeOffset now)
    {
        var (start, reset) = account.Budget.Window(now, zone);
        if (start != account.WindowStart)
        {
            account.WindowStart = start;
            account.ResetsAt = reset;
            account.SpentUsd = 0;
            account.AlertedThresholds.Clear();
        }
    }

    private static decimal Percent(BudgetAccount account) =>
        account.Budget.LimitUsd <= 0 ? 100 : account.SpentUsd * 100 / account.Budget.LimitUsd;
}
