namespace Tollgate.Policy.Budgets;

/// <summary>One budget's running account in its current period: what was spent and what is held for requests in flight.</summary>
public sealed class BudgetAccount(Budget budget)
{
    public Budget Budget { get; set; } = budget;

    public DateTimeOffset WindowStart { get; set; } = DateTimeOffset.MinValue;

    public DateTimeOffset? ResetsAt { get; set; }

    public decimal SpentUsd { get; set; }

    public decimal ReservedUsd { get; set; }

    /// <summary>With several replicas (<see cref="ISharedBudgetRoom"/>): the room this replica has leased in the period and not yet spent; requests in flight are held in it.</summary>
    public decimal LeasedUsd { get; set; }

    public decimal RemainingUsd => Budget.LimitUsd - SpentUsd - ReservedUsd;

    /// <summary>Alert thresholds (percent) already announced in this period.</summary>
    public HashSet<int> AlertedThresholds { get; } = [];
}
