using Tollgate.Ledger;

namespace Tollgate.Policy.Budgets;

/// <summary>How often a budget starts again: calendar day, ISO week (from Monday) or month in the budget time zone, or never.</summary>
public enum BudgetPeriod
{
    Daily,
    Weekly,
    Monthly,
    Total,
}

/// <summary>
/// A spending limit in USD on one scope — every request (<c>global</c>), or those of one key, user, cost centre,
/// feature, project, env or custom tag value — per period. A hard budget refuses requests that could overspend it; a
/// soft one only counts.
/// </summary>
public sealed record Budget(string Name, string Scope, string? Value, BudgetPeriod Period, decimal LimitUsd, bool Hard)
{
    /// <summary>
    /// Whether a hard budget admits a request whose cost cannot be bounded in advance (<c>unpriced: allow</c>): a model
    /// with no price, or an input the gateway cannot count. By default it refuses them, since they could spend without
    /// limit; allowed, they reserve what can be bounded and their recorded cost still counts.
    /// </summary>
    public bool AllowUnpriced { get; init; }

    public static IReadOnlyList<string> Scopes { get; } = ["global", "key", "user", "cost_center", "feature", "project", "env", "tag:NAME"];

    /// <summary>
    /// A scope as written in config, the admin API or the CLI, in its canonical spelling (<c>cost-center</c>, the
    /// spelling of <c>report --by</c>, and <c>cost_centre</c> are <c>cost_center</c>); null when it is no scope.
    /// </summary>
    public static string? CanonicalScope(string? scope) => scope switch
    {
        "cost_center" or "cost-center" or "cost_centre" or "cost-centre" => "cost_center",
        "global" or "key" or "user" or "feature" or "project" or "env" => scope,
        { Length: > 4 } when scope.StartsWith("tag:", StringComparison.Ordinal) => scope,
        _ => null,
    };

    /// <summary>Whether a request with this attribution counts against the budget.</summary>
    public bool Applies(Attribution attribution)
    {
        ArgumentNullException.ThrowIfNull(attribution);
        var actual = Scope switch
        {
            "global" => null,
            "key" => attribution.KeyId,
            "user" => attribution.User,
            "cost_center" => attribution.CostCenter,
            "feature" => attribution.Feature,
            "project" => attribution.Project,
            "env" => attribution.Env,
            _ when Scope.StartsWith("tag:", StringComparison.Ordinal) => attribution.Tags.GetValueOrDefault(Scope[4..]),
            _ => null,
        };
        return Scope == "global" || (actual is not null && string.Equals(actual, Value, StringComparison.Ordinal));
    }

    /// <summary>The period containing <paramref name="now"/>: its start and when it resets (null for a total budget).</summary>
    public (DateTimeOffset Start, DateTimeOffset? Reset) Window(DateTimeOffset now, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var day = new DateTimeOffset(local.Year, local.Month, local.Day, 0, 0, 0, local.Offset);
        DateTimeOffset Start(DateTimeOffset localMidnight) => new(localMidnight.DateTime, zone.GetUtcOffset(localMidnight.DateTime));
        return Period switch
        {
            BudgetPeriod.Daily => (Start(day), Start(day.AddDays(1))),
            BudgetPeriod.Weekly => (Start(day.AddDays(-(((int)local.DayOfWeek + 6) % 7))), Start(day.AddDays(7 - (((int)local.DayOfWeek + 6) % 7)))),
            BudgetPeriod.Monthly => (Start(day.AddDays(1 - local.Day)), Start(day.AddDays(1 - local.Day).AddMonths(1))),
            _ => (DateTimeOffset.MinValue, null),
        };
    }
}
