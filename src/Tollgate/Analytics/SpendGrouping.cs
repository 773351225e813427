using System.Globalization;
using Tollgate.Ledger;
using Tollgate.Ledger.Rollups;

namespace Tollgate.Analytics;

/// <summary>
/// A dimension spend can be grouped by: a named field, the day, or one custom tag (<c>tag:NAME</c>). Each reads its
/// group from a raw record, and from the hourly rollup of <see cref="RollupDimension"/>.
/// </summary>
public sealed record SpendGrouping(string Name, Func<UsageRecord, string?> KeyOf, string RollupDimension)
{
    public const string None = "(none)";

    public static IReadOnlyList<string> Names { get; } = ["model", "alias", "deployment", "provider", "day", "user", "session", "feature", "cost-center", "project", "env", "key", "status", "endpoint", "route", "tag:NAME"];

    /// <summary>The group of a rollup row of <see cref="RollupDimension"/>: its value, or its day for <c>day</c>.</summary>
    public string? KeyOfRollup(long hour, string storedValue) => Name == "day"
        ? RollupDimensions.StartOf(hour).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
        : RollupDimensions.Read(storedValue);

    public static SpendGrouping? Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.StartsWith(RollupDimensions.TagPrefix, StringComparison.Ordinal) && name.Length > RollupDimensions.TagPrefix.Length)
        {
            return new SpendGrouping(name, r => RollupDimensions.ValueOf(r, name), name);
        }

        if (name == "route")
        {
            return new SpendGrouping(name, RollupDimensions.RouteOf, RollupDimensions.Route);
        }

        // Budgets, required tags and metadata spell it cost_center; reports accept every spelling.
        var dimension = name switch
        {
            "day" => RollupDimensions.Total,
            "cost-center" or "cost_center" or "cost-centre" or "cost_centre" => "cost_center",
            "model" or "alias" or "deployment" or "provider" or "user" or "session" or "feature" or "project" or "env" or "key" or "status" or "endpoint" => name,
            _ => null,
        };
        if (dimension is null)
        {
            return null;
        }

        return name == "day"
            ? new SpendGrouping(name, r => r.Timestamp.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), dimension)
            : new SpendGrouping(name, r => RollupDimensions.ValueOf(r, dimension), dimension);
    }
}
