namespace Tollgate.Ledger.Rollups;

/// <summary>
/// The dimensions spend is rolled up by per hour, and a record's value on each. One rollup row is (dimension, hour,
/// value) → <see cref="RollupTotals"/>: a report grouped by one dimension reads that dimension's rows only.
/// <para>
/// Size is bounded: the server's own dimensions (model, alias, deployment, provider, key, status, endpoint) have as
/// many values as the configuration has; the dimensions a client chooses (user, feature, cost centre, project, env,
/// and each tag name) keep at most a set number of values per hour, the rest of that hour going into one
/// overflow row — an hour with an overflow row is read from raw records for that dimension, so reports stay exact —
/// and at most a set number of tag names per hour get rows of their own (an hour past that is read raw for any tag).
/// Sessions are not rolled up at all: a session id lives for one conversation, so an hour has nearly as many as it has
/// requests and its rows would be as many as the raw records; a report by session reads raw records.
/// </para>
/// </summary>
public static class RollupDimensions
{
    /// <summary>Every record, one value: totals and per-hour or per-day reports.</summary>
    public const string Total = "total";

    /// <summary>The value of a record that has none on the dimension (no user, no feature…).</summary>
    public const string NoValue = "\u0001none";

    /// <summary>The overflow row of an hour whose dimension had more values than are kept.</summary>
    public const string MoreValues = "\u0001more";

    /// <summary>The dimension whose rows mark hours where tag names beyond the kept number were not rolled up.</summary>
    public const string MoreTags = "tag:\u0001more";

    public const string TagPrefix = "tag:";

    /// <summary>
    /// Where routed requests went (<c>router → target</c>), kept like a tag: rows only for the records that have one, the
    /// rest being the hour's total less those — so hours rolled up before routing existed read right.
    /// </summary>
    public const string Route = TagPrefix + "\u0001route";

    /// <summary>Dimensions whose values come from the configuration: never capped.</summary>
    public static IReadOnlyList<string> ServerChosen { get; } = ["model", "alias", "deployment", "provider", "key", "status", "endpoint"];

    /// <summary>Dimensions whose values the client chooses (attribution): capped per hour.</summary>
    public static IReadOnlyList<string> ClientChosen { get; } = ["user", "feature", "cost_center", "project", "env"];

    /// <summary>Whether a dimension has rollup rows (every one but <c>session</c>).</summary>
    public static bool IsRolledUp(string dimension) =>
        dimension == Total || ServerChosen.Contains(dimension) || IsCapped(dimension);

    public static bool IsCapped(string dimension) =>
        dimension.StartsWith(TagPrefix, StringComparison.Ordinal) || ClientChosen.Contains(dimension);

    /// <summary>A record's value on a named (non-tag) dimension, null when it has none.</summary>
    public static string? ValueOf(UsageRecord record, string dimension)
    {
        ArgumentNullException.ThrowIfNull(record);
        var a = record.Attribution;
        return dimension switch
        {
            Total => string.Empty,
            "model" => record.UpstreamModel,
            "alias" => record.Alias,
            "deployment" => record.Deployment,
            "provider" => record.Provider,
            "key" => a.KeyId,
            "status" => record.Status,
            "endpoint" => record.Endpoint,
            "user" => a.User,
            "session" => a.Session,
            "feature" => a.Feature,
            "cost_center" => a.CostCenter,
            "project" => a.Project,
            "env" => a.Env,
            Route => RouteOf(record),
            _ when dimension.StartsWith(TagPrefix, StringComparison.Ordinal) => a.Tags.GetValueOrDefault(dimension[TagPrefix.Length..]),
            _ => throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "not a rollup dimension"),
        };
    }

    /// <summary>Every (dimension, stored value) a record counts under.</summary>
    public static IEnumerable<(string Dimension, string Value)> Of(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        yield return (Total, string.Empty);
        foreach (var dimension in ServerChosen)
        {
            yield return (dimension, Store(ValueOf(record, dimension)));
        }

        foreach (var dimension in ClientChosen)
        {
            yield return (dimension, Store(ValueOf(record, dimension)));
        }

        foreach (var (name, value) in record.Attribution.Tags)
        {
            if (TagPrefix + name != Route)
            {
                yield return (TagPrefix + name, value);
            }
        }

        if (RouteOf(record) is { } route)
        {
            yield return (Route, route);
        }
    }

    /// <summary><c>router → target</c> for a routed record, else null.</summary>
    public static string? RouteOf(UsageRecord record) => record?.RouteTarget is { } target ? record.Alias + " → " + target : null;

    /// <summary>A value as stored (null as <see cref="NoValue"/>).</summary>
    public static string Store(string? value) => value ?? NoValue;

    /// <summary>A stored value as the record had it (null for <see cref="NoValue"/>).</summary>
    public static string? Read(string stored) => stored == NoValue ? null : stored;

    /// <summary>The hour a timestamp falls in, as whole hours since the Unix epoch (UTC).</summary>
    public static long HourOf(DateTimeOffset timestamp) => Math.DivRem(timestamp.ToUnixTimeMilliseconds(), 3_600_000L) is var (q, r) && r < 0 ? q - 1 : q;

    public static DateTimeOffset StartOf(long hour) => DateTimeOffset.FromUnixTimeMilliseconds(hour * 3_600_000L);
}
