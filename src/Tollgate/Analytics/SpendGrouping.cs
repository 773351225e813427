using System.Globalization;
using Tollgate.Ledger;

namespace Tollgate.Analytics;

/// <summary>A dimension spend can be grouped by: a named field, the day, or one custom tag (<c>tag:NAME</c>).</summary>
public sealed record SpendGrouping(string Name, Func<UsageRecord, string?> KeyOf)
{
    public const string None = "(none)";

    public static IReadOnlyList<string> Names { get; } = ["model", "alias", "deployment", "provider", "day", "user", "session", "feature", "cost-center", "project", "env", "key", "status", "tag:NAME"];

    public static SpendGrouping? Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.StartsWith("tag:", StringComparison.Ordinal) && name.Length > 4)
        {
            var tag = name[4..];
            return new SpendGrouping(name, r => r.Attribution.Tags.GetValueOrDefault(tag));
        }

        Func<UsageRecord, string?>? key = name switch
        {
            "model" => r => r.UpstreamModel,
            "alias" => r => r.Alias,
            "deployment" => r => r.Deployment,
            "provider" => r => r.Provider,
            "day" => r => r.Timestamp.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            "user" => r => r.Attribution.User,
            "session" => r => r.Attribution.Session,
            "feature" => r => r.Attribution.Feature,
            // Budgets, required tags and metadata spell it cost_center; reports accept every spelling.
            "cost-center" or "cost_center" or "cost-centre" or "cost_centre" => r => r.Attribution.CostCenter,
            "project" => r => r.Attribution.Project,
            "env" => r => r.Attribution.Env,
            "key" => r => r.Attribution.KeyId,
            "status" => r => r.Status,
            _ => null,
        };
        return key is null ? null : new SpendGrouping(name, key);
    }
}
