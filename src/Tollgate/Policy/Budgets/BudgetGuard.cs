using Tollgate.Gateway.Errors;
using Tollgate.Ledger;

namespace Tollgate.Policy.Budgets;

/// <summary>
/// Stage 4 (admit, budget part). Before a call, the request's worst-case cost is reserved on every budget it counts
/// against — under one lock, so concurrent requests cannot together pass a hard limit; one that does not fit a hard
/// budget gets 429 <c>budget_exceeded</c> with the period's reset time. After the call the reservation is settled to
/// the real cost, or released if nothing was billed. Accounts start from the ledger's spend in the current period.
/// <para>
/// Several replicas (<paramref name="shared"/>, PostgreSQL): a hard budget admits a request only against room this
/// replica has leased from the shared store, which grants a lease only while the period's spent + leased room stays
/// within the limit — so the replicas together never hold more than the limit. When its room is short, a replica
/// leases a slice (ten times the request's worst case, between 0.1% and 5% of the limit, at least what is missing);
/// spent and unused room go back to the store in batches (<see cref="FlushAsync"/>), which only ever keeps the store's
/// count on the safe side until they arrive. Soft budgets' spend is added up in the store too; each flush (and, for
/// budgets with nothing to flush, a read every second) brings back the total across replicas, which every account then
/// shows, and alerts are sent by whichever replica first claims the threshold in the store — once, across replicas.
/// </para>
/// </summary>
public sealed class BudgetGuard(
    IReadOnlyList<Budget> budgets, TimeZoneInfo zone, TimeProvider time, Alerts.AlertQueue? alerts = null, IReadOnlyList<int>? thresholds = null, ISharedBudgetRoom? shared = null)
{
    private readonly IReadOnlyList<int> _thresholds = thresholds ?? [50, 80, 100];

    private readonly Lock _gate = new();
    private readonly List<BudgetAccount> _accounts = [.. budgets.Select(b => new BudgetAccount(b))];

    /// <summary>Spent and returned room not yet told to the shared store, by budget and period; <c>Leased</c> for a hard budget's.</summary>
    private readonly Dictionary<(string Budget, DateTimeOffset Period), (decimal Spent, decimal Returned, bool Leased)> _unflushed = [];
    private readonly SemaphoreSlim _leasing = new(1, 1);

    /// <summary>How often budgets with nothing to flush read the total other replicas spent.</summary>
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);
    private DateTimeOffset _lastRefresh = DateTimeOffset.MinValue;

    /// <summary>True when budgets are shared with other replicas.</summary>
    public bool Shared => shared is not null;

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
    /// <param name="cancellationToken">Cancels a lease in flight (replicas only; alone, admission never waits).</param>
    public async ValueTask<(BudgetReservation? Reservation, GatewayError? Error, decimal? Remaining)> AdmitAsync(
        Attribution attribution, decimal worstCaseUsd, string? unbounded = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attribution);
        for (var attempt = 0; ; attempt++)
        {
            List<(BudgetAccount Account, decimal Short)>? shortfalls;
            lock (_gate)
            {
                (var result, shortfalls) = TryAdmit(attribution, worstCaseUsd, unbounded, lastTry: shared is null || attempt > 0);
                if (shortfalls is null)
                {
                    return result;
                }
            }

            try
            {
                await LeaseAsync(shortfalls, worstCaseUsd, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The shared store cannot be reached: a hard budget fails closed rather than spend room it cannot lease.
                return (null, new GatewayError(503, "api_error", "budget_store_unavailable",
                    $"Budget '{shortfalls[0].Account.Budget.Name}' is shared with other gateways through a store that cannot be reached now; requests it must hold room for are refused until it is back."), null);
            }
        }
    }

    /// <summary>Admits or refuses under the lock; or, before the last try, names the shared accounts whose leased room is short.</summary>
    private ((BudgetReservation?, GatewayError?, decimal?) Result, List<(BudgetAccount, decimal)>? Shortfalls) TryAdmit(
        Attribution attribution, decimal worstCaseUsd, string? unbounded, bool lastTry)
    {
        var applicable = Applicable(attribution);
        List<(BudgetAccount, decimal)>? shortfalls = null;
        foreach (var account in applicable)
        {
            if (account.Budget.Hard && unbounded is not null && !account.Budget.AllowUnpriced)
            {
                return ((null, GatewayError.InvalidRequest(
                    $"The hard budget '{account.Budget.Name}' cannot hold this request's cost in advance: {unbounded}. (A budget set with 'unpriced: allow' admits such requests.)",
                    "unbounded_cost"), null), null);
            }

            var available = Available(account);
            if (!account.Budget.Hard || available >= worstCaseUsd)
            {
                continue;
            }

            if (!lastTry)
            {
                (shortfalls ??= []).Add((account, worstCaseUsd - available));
                continue;
            }

            var reset = account.ResetsAt is { } at ? $" It resets at {at.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}." : " It does not reset.";
            var left = SharedFor(account) ? "less than that left across the gateways that share it" : $"${Math.Max(0, available)} left";
            return ((null, new GatewayError(429, "rate_limit_error", "budget_exceeded",
                $"Budget '{account.Budget.Name}' (${account.Budget.LimitUsd} {account.Budget.Period.ToString().ToLowerInvariant()}) has {left}; this request could cost up to ${worstCaseUsd}.{reset}"), null), null);
        }

        if (shortfalls is not null)
        {
            return (default, shortfalls);
        }

        var reservation = Reserve(applicable, worstCaseUsd);
        decimal? remaining = applicable.Count == 0 ? null : applicable.Min(a => a.RemainingUsd);
        return ((reservation, null, remaining), null);
    }

    /// <summary>What a new request may still hold on the account: this replica's unheld leased room when shared, else the budget's remaining.</summary>
    private decimal Available(BudgetAccount account) => SharedFor(account) ? account.LeasedUsd - account.ReservedUsd : account.RemainingUsd;

    private bool SharedFor(BudgetAccount account) => shared is not null && account.Budget.Hard;

    /// <summary>Leases what each short account misses (a slice when it can), one lease at a time.</summary>
    private async Task LeaseAsync(List<(BudgetAccount Account, decimal Short)> shortfalls, decimal worstCaseUsd, CancellationToken cancellationToken)
    {
        await _leasing.WaitAsync(cancellationToken);
        try
        {
            foreach (var (account, _) in shortfalls)
            {
                decimal missing, limit, spent;
                DateTimeOffset period;
                lock (_gate)
                {
                    missing = worstCaseUsd - Available(account);
                    (limit, spent, period) = (account.Budget.LimitUsd, account.SpentUsd, account.WindowStart);
                }

                if (missing <= 0)
                {
                    // Another request's lease made the room meanwhile.
                    continue;
                }

                var slice = Math.Clamp(worstCaseUsd * 10, limit / 1000, limit / 20);
                var granted = await shared!.LeaseAsync(account.Budget.Name, period, limit, Math.Max(slice, missing), missing, spent, cancellationToken);
                lock (_gate)
                {
                    if (account.WindowStart == period)
                    {
                        account.LeasedUsd += granted;
                    }
                    else
                    {
                        Unflushed(account.Budget.Name, period, 0, granted, leased: true);
                    }
                }
            }
        }
        finally
        {
            _leasing.Release();
        }
    }

    /// <summary>
    /// Replicas: leases room for holds taken without it (batches re-held at start), as much as the store still has, so
    /// that other replicas cannot spend it meanwhile.
    /// </summary>
    public async Task LeaseForHoldsAsync(CancellationToken cancellationToken)
    {
        if (shared is null)
        {
            return;
        }

        List<(BudgetAccount Account, decimal Missing, decimal Limit, decimal Spent, DateTimeOffset Period)> short_;
        lock (_gate)
        {
            short_ = [.. _accounts.Where(a => SharedFor(a) && a.ReservedUsd > a.LeasedUsd).Select(a => (a, a.ReservedUsd - a.LeasedUsd, a.Budget.LimitUsd, a.SpentUsd, a.WindowStart))];
        }

        foreach (var (account, missing, limit, spent, period) in short_)
        {
            var granted = await shared.LeaseAsync(account.Budget.Name, period, limit, missing, 0, spent, cancellationToken);
            lock (_gate)
            {
                account.LeasedUsd += granted;
            }
        }
    }

    /// <summary>
    /// Tells the shared store what was spent and what room was given back since the last flush (kept for the next flush
    /// if it fails), takes back each budget's total across replicas, and sends the alerts of thresholds it crossed.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (shared is null)
        {
            return;
        }

        List<(string Budget, DateTimeOffset Period, decimal Spent, decimal Returned, bool Leased, decimal SpentBefore)> pending;
        List<(string Budget, DateTimeOffset Period, decimal SpentBefore)> idle = [];
        lock (_gate)
        {
            pending = [.. _unflushed.Select(u => (u.Key.Budget, u.Key.Period, u.Value.Spent, u.Value.Returned, u.Value.Leased,
                Current(u.Key.Budget, u.Key.Period) is { } account ? account.SpentUsd - u.Value.Spent : 0))];
            _unflushed.Clear();
            var now = time.GetUtcNow();
            if (now - _lastRefresh >= RefreshInterval)
            {
                _lastRefresh = now;
                idle = [.. _accounts.Where(a => a.WindowStart != DateTimeOffset.MinValue && !pending.Any(p => p.Budget == a.Budget.Name && p.Period == a.WindowStart))
                    .Select(a => (a.Budget.Name, a.WindowStart, a.SpentUsd))];
            }
        }

        for (var i = 0; i < pending.Count; i++)
        {
            var (budget, period, spent, returned, leased, spentBefore) = pending[i];
            try
            {
                Learn(budget, period, leased
                    ? await shared.SettleAsync(budget, period, spent, returned, cancellationToken)
                    : await shared.AddSpentAsync(budget, period, spent, spentBefore, cancellationToken));
            }
            catch
            {
                lock (_gate)
                {
                    foreach (var (b, p, s, r, l, _) in pending.Skip(i))
                    {
                        Unflushed(b, p, s, r, l);
                    }
                }

                throw;
            }
        }

        foreach (var (budget, period, spentBefore) in idle)
        {
            Learn(budget, period, await shared.AddSpentAsync(budget, period, 0, spentBefore, cancellationToken));
        }

        await AlertSharedAsync(cancellationToken);
    }

    /// <summary>An account's spend becomes the store's total for its period and what this replica settled since.</summary>
    private void Learn(string budget, DateTimeOffset period, decimal? storeSpent)
    {
        lock (_gate)
        {
            if (storeSpent is { } total && Current(budget, period) is { } account)
            {
                account.SpentUsd = total + (_unflushed.TryGetValue((budget, period), out var since) ? since.Spent : 0);
            }
        }
    }

    /// <summary>The alerts of thresholds crossed by the totals across replicas, each sent by the replica that claims it first.</summary>
    private async Task AlertSharedAsync(CancellationToken cancellationToken)
    {
        List<(BudgetAccount Account, DateTimeOffset Period, int Threshold)> due;
        lock (_gate)
        {
            due = [.. _accounts.SelectMany(a => _thresholds.Where(t => Percent(a) >= t && !a.AlertedThresholds.Contains(t)).Select(t => (a, a.WindowStart, t)))];
        }

        foreach (var (account, period, threshold) in due)
        {
            var mine = await shared!.ClaimAlertAsync(account.Budget.Name, period, threshold, cancellationToken);
            lock (_gate)
            {
                if (account.WindowStart == period && account.AlertedThresholds.Add(threshold) && mine)
                {
                    alerts?.Enqueue(new Alerts.BudgetAlert(account.Budget.Name, threshold, account.SpentUsd, account.Budget.LimitUsd,
                        account.Budget.Period.ToString().ToLowerInvariant(), account.ResetsAt, time.GetUtcNow()));
                }
            }
        }
    }

    /// <summary>The account of a budget if it is in that period (under the lock).</summary>
    private BudgetAccount? Current(string budget, DateTimeOffset period) => _accounts.Find(a => a.Budget.Name == budget && a.WindowStart == period);

    /// <summary>Adds to what the shared store has not been told yet (under the lock).</summary>
    private void Unflushed(string budget, DateTimeOffset period, decimal spent, decimal returned, bool leased)
    {
        var (s, r, l) = _unflushed.GetValueOrDefault((budget, period));
        _unflushed[(budget, period)] = (s + spent, r + returned, l || leased);
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
            for (var i = 0; i < reservation.Accounts.Count; i++)
            {
                var account = reservation.Accounts[i];
                account.ReservedUsd -= reservation.AmountUsd;
                account.SpentUsd += actualUsd;
                if (SharedFor(account))
                {
                    SettleShared(account, reservation.Periods[i], reservation.AmountUsd, actualUsd);
                }
                else if (shared is not null)
                {
                    Unflushed(account.Budget.Name, reservation.Periods[i], actualUsd, 0, leased: false);
                }

                // Shared: alerts go by the totals across replicas, after the next flush (AlertSharedAsync).
                foreach (var threshold in _thresholds.Where(t => shared is null && Percent(account) >= t && account.AlertedThresholds.Add(t)))
                {
                    alerts?.Enqueue(new Alerts.BudgetAlert(account.Budget.Name, threshold, account.SpentUsd, account.Budget.LimitUsd,
                        account.Budget.Period.ToString().ToLowerInvariant(), account.ResetsAt, time.GetUtcNow()));
                }
            }
        }
    }

    /// <summary>
    /// The spent part of the hold moves from this replica's room to the store's spent; room beyond what a burst needs
    /// (two of the largest slices) goes back. A hold from an earlier period gives back all it did not spend (under the lock).
    /// </summary>
    private void SettleShared(BudgetAccount account, DateTimeOffset period, decimal heldUsd, decimal actualUsd)
    {
        if (account.WindowStart != period)
        {
            Unflushed(account.Budget.Name, period, actualUsd, Math.Max(0, heldUsd - actualUsd), leased: true);
            return;
        }

        account.LeasedUsd -= actualUsd;
        var excess = account.LeasedUsd - account.ReservedUsd - (account.Budget.LimitUsd / 10);
        if (excess > 0)
        {
            account.LeasedUsd -= excess;
        }

        Unflushed(account.Budget.Name, period, actualUsd, Math.Max(0, excess), leased: true);
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
            if (SharedFor(account) && account.LeasedUsd > 0)
            {
                // The old period's unheld room goes back; holds still in flight give theirs back when settled.
                Unflushed(account.Budget.Name, account.WindowStart, 0, Math.Max(0, account.LeasedUsd - account.ReservedUsd), leased: true);
                account.LeasedUsd = 0;
            }

            account.WindowStart = start;
            account.ResetsAt = reset;
            account.SpentUsd = 0;
            account.AlertedThresholds.Clear();
        }
    }

    private static decimal Percent(BudgetAccount account) =>
        account.Budget.LimitUsd <= 0 ? 100 : account.SpentUsd * 100 / account.Budget.LimitUsd;
}
