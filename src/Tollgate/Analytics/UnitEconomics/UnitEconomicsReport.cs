using Tollgate.Ledger;

namespace Tollgate.Analytics.UnitEconomics;

/// <summary>One group's unit economics: what its requests cost, what they earned, and the margin.</summary>
public sealed record UnitEconomicsRow(
    string Group,
    long Requests,
    decimal CostUsd,
    decimal CostPerRequestUsd,
    long ActiveUserDays,
    decimal? CostPerActiveUserDayUsd,
    long Conversions,
    decimal RevenueUsd,
    decimal MarginUsd,
    decimal? MarginPerRequestUsd,
    decimal? CostPerConversionUsd)
{
    /// <summary>The group earned less than it cost (only said of groups that reported some outcome).</summary>
    public bool NegativeMargin { get; init; }
}

/// <summary>
/// Joins ledger records and outcomes by a grouping (<c>feature</c> by default): cost per request, cost per active user
/// per day (a user active on two days counts twice), conversions, revenue and margin. An outcome tied to a request
/// takes that request's group; one reported for a user or feature directly takes that field (for the <c>user</c> and
/// <c>feature</c> groupings).
/// </summary>
public static class UnitEconomicsReport
{
    public static IReadOnlyList<UnitEconomicsRow> Build(IReadOnlyList<UsageRecord> records, IReadOnlyList<Outcome> outcomes, SpendGrouping grouping, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(outcomes);
        ArgumentNullException.ThrowIfNull(grouping);
        var groups = new Dictionary<string, (long Requests, decimal Cost, HashSet<(string, DateOnly)> UserDays, long Conversions, decimal Revenue, bool Reported)>(StringComparer.Ordinal);
        var groupOfRequest = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            var key = grouping.KeyOf(record) ?? SpendGrouping.None;
            groupOfRequest[record.Id] = key;
            var group = groups.GetValueOrDefault(key, (0, 0m, new HashSet<(string, DateOnly)>(), 0, 0m, false));
            group.Requests++;
            group.Cost += record.Cost.Total ?? 0;
            if (record.Attribution.User is { } user)
            {
                group.UserDays.Add((user, DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(record.Timestamp, zone).DateTime)));
            }

            groups[key] = group;
        }

        foreach (var outcome in outcomes)
        {
            var key = outcome.RequestId is { } id && groupOfRequest.TryGetValue(id, out var ofRequest) ? ofRequest
                : grouping.Name switch { "feature" => outcome.Feature, "user" => outcome.User, _ => null } ?? SpendGrouping.None;
            var group = groups.GetValueOrDefault(key, (0, 0m, new HashSet<(string, DateOnly)>(), 0, 0m, false));
            group.Conversions += outcome.Conversions;
            group.Revenue += outcome.RevenueUsd;
            group.Reported = true;
            groups[key] = group;
        }

        return [.. groups.Select(g =>
        {
            var (requests, cost, userDays, conversions, revenue, reported) = g.Value;
            var margin = revenue - cost;

            // Ratios to 10 decimal places (a ten-billionth of a dollar); sums stay exact.
            static decimal Per(decimal amount, long count) => decimal.Round(amount / count, 10);
            return new UnitEconomicsRow(
                g.Key, requests, cost, requests == 0 ? 0 : Per(cost, requests), userDays.Count, userDays.Count == 0 ? null : Per(cost, userDays.Count),
                conversions, revenue, margin, requests == 0 ? null : Per(margin, requests), conversions == 0 ? null : Per(cost, conversions))
            {
                NegativeMargin = reported && margin < 0,
            };
        }).OrderBy(r => r.MarginUsd).ThenBy(r => r.Group, StringComparer.Ordinal)];
    }
}
