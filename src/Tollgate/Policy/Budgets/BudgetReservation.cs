namespace Tollgate.Policy.Budgets;

/// <summary>The worst-case cost held on some budgets for one request until it is settled or released.</summary>
public sealed class BudgetReservation(IReadOnlyList<BudgetAccount> accounts, decimal amountUsd)
{
    private int _closed;

    public IReadOnlyList<BudgetAccount> Accounts { get; } = accounts;

    /// <summary>The period each account was in when the hold was taken (a hold that outlives its period is settled to that period).</summary>
    public IReadOnlyList<DateTimeOffset> Periods { get; } = [.. accounts.Select(a => a.WindowStart)];

    public decimal AmountUsd { get; } = amountUsd;

    /// <summary>True the first time only: a reservation is settled or released exactly once.</summary>
    internal bool TryClose() => Interlocked.Exchange(ref _closed, 1) == 0;
}
