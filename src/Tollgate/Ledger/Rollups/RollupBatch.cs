using System.Globalization;

namespace Tollgate.Ledger.Rollups;

/// <summary>
/// One catch-up's worth of records turned into rollup rows: records that share every rolled-up value are summed first
/// (so each dimension's row is added to once per such group, not once per record), the stored rows they touch are read
/// in one go, the caps applied to the dimensions clients choose (a new value past <see cref="RollupLimits.MaxValuesPerHour"/>
/// goes to the hour's overflow row, a tag name past <see cref="RollupLimits.MaxTagNamesPerHour"/> to the hour's
/// "more tags" row), each touched hour's top list merged, and everything written back — through an engine's
/// <see cref="IRollupTables"/>, inside the transaction that moves the engine's mark (or inserts the records).
/// A row's sums are read, added to in <see cref="decimal"/> and written back, so a rollup equals the raw records' sum
/// to the last decimal.
/// </summary>
public sealed class RollupBatch(RollupLimits limits)
{
    private readonly Dictionary<Combination, (UsageRecord Sample, RollupTotals Sum)> _combinations = [];
    private readonly Dictionary<long, List<(string Id, decimal Cost)>> _candidates = [];

    /// <summary>How many records were added.</summary>
    public int Count { get; private set; }

    public void Add(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var hour = RollupDimensions.HourOf(record.Timestamp);
        if (record.Cost.Total is { } cost)
        {
            (_candidates.TryGetValue(hour, out var candidates) ? candidates : _candidates[hour] = []).Add((record.Id, cost));
        }

        var combination = Combination.Of(record, hour);
        if (!_combinations.TryGetValue(combination, out var group))
        {
            group = (record, new RollupTotals());
            _combinations[combination] = group;
        }

        group.Sum.Add(record);
        Count++;
    }

    /// <summary>Adds the batch's records to the stored rollups.</summary>
    public async Task WriteAsync(IRollupTables tables, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (Count == 0)
        {
            return;
        }

        var keys = new HashSet<RollupRowKey>();
        var capped = new HashSet<(string Dimension, long Hour)>();
        var tagHours = new HashSet<long>();
        foreach (var (combination, (sample, _)) in _combinations)
        {
            var hour = combination.Hour;
            foreach (var (dimension, value) in RollupDimensions.Of(sample))
            {
                keys.Add(new RollupRowKey(dimension, hour, value));
                if (dimension.StartsWith(RollupDimensions.TagPrefix, StringComparison.Ordinal) && tagHours.Add(hour))
                {
                    keys.Add(new RollupRowKey(RollupDimensions.MoreTags, hour, string.Empty));
                }

                if (RollupDimensions.IsCapped(dimension) && capped.Add((dimension, hour)))
                {
                    keys.Add(new RollupRowKey(dimension, hour, RollupDimensions.MoreValues));
                }
            }
        }

        var stored = await tables.ReadRowsAsync(keys, cancellationToken);
        var valueCounts = await tables.CountValuesAsync(capped, cancellationToken);
        var tagNames = tagHours.Count == 0 ? [] : await tables.ReadTagNamesAsync(tagHours, cancellationToken);
        var spread = new Spread(limits, stored, valueCounts, tagNames);
        foreach (var (combination, (sample, sum)) in _combinations)
        {
            spread.Add(combination.Hour, sample, sum);
        }

        var top = await tables.ReadTopAsync(_candidates.Keys, cancellationToken);
        var kept = new Dictionary<long, List<(string Id, decimal Cost)>>();
        foreach (var (hour, candidates) in _candidates)
        {
            var merged = top.TryGetValue(hour, out var storedTop) ? storedTop.Concat(candidates) : candidates;
            kept[hour] = [.. merged.DistinctBy(c => c.Id, StringComparer.Ordinal).OrderByDescending(c => c.Cost).ThenBy(c => c.Id, StringComparer.Ordinal).Take(limits.TopPerHour)];
        }

        await tables.WriteAsync(spread.Rows, spread.NewTagNames, kept, cancellationToken);
    }

    /// <summary>Where each group's sum goes, given what is stored.</summary>
    private sealed class Spread(
        RollupLimits limits, Dictionary<RollupRowKey, RollupTotals> stored,
        Dictionary<(string Dimension, long Hour), int> valueCounts, Dictionary<long, HashSet<string>> tagNames)
    {
        public Dictionary<RollupRowKey, RollupTotals> Rows { get; } = [];

        public HashSet<(string Dimension, long Hour)> NewTagNames { get; } = [];

        public void Add(long hour, UsageRecord sample, RollupTotals sum)
        {
            foreach (var (dimension, value) in RollupDimensions.Of(sample))
            {
                if (dimension.StartsWith(RollupDimensions.TagPrefix, StringComparison.Ordinal) && !AdmitTag(dimension, hour))
                {
                    Row(new RollupRowKey(RollupDimensions.MoreTags, hour, string.Empty), capped: false).Add(sum);
                    continue;
                }

                Row(new RollupRowKey(dimension, hour, value), RollupDimensions.IsCapped(dimension)).Add(sum);
            }
        }

        /// <summary>
        /// The row being built for a key: its stored sums the first time it is touched, or empty. A new value of a
        /// capped dimension in an hour that has all the values it keeps goes to the hour's overflow row instead.
        /// </summary>
        private RollupTotals Row(RollupRowKey key, bool capped)
        {
            if (Rows.TryGetValue(key, out var totals))
            {
                return totals;
            }

            stored.TryGetValue(key, out totals);
            if (totals is null && capped && key.Value != RollupDimensions.MoreValues)
            {
                var counted = valueCounts.GetValueOrDefault((key.Dimension, key.Hour));
                if (counted >= limits.MaxValuesPerHour)
                {
                    return Row(key with { Value = RollupDimensions.MoreValues }, capped);
                }

                valueCounts[(key.Dimension, key.Hour)] = counted + 1;
            }

            totals ??= new RollupTotals();
            Rows[key] = totals;
            return totals;
        }

        /// <summary>Whether a tag name has rows of its own in this hour: it has, or the hour has room for one more.</summary>
        private bool AdmitTag(string dimension, long hour)
        {
            if (!tagNames.TryGetValue(hour, out var names))
            {
                names = [];
                tagNames[hour] = names;
            }

            if (names.Contains(dimension))
            {
                return true;
            }

            if (names.Count >= limits.MaxTagNamesPerHour)
            {
                return false;
            }

            names.Add(dimension);
            NewTagNames.Add((dimension, hour));
            return true;
        }
    }

    /// <summary>Everything a record is rolled up by: two records equal here add to exactly the same rows.</summary>
    private readonly record struct Combination(
        long Hour, string Model, string Alias, string Deployment, string Provider, string? Key, string Status, string Endpoint,
        string? User, string? Feature, string? CostCenter, string? Project, string? Env, string Tags, string? RouteTarget)
    {
        public static Combination Of(UsageRecord record, long hour)
        {
            var a = record.Attribution;
            return new Combination(
                hour, record.UpstreamModel, record.Alias, record.Deployment, record.Provider, a.KeyId, record.Status, record.Endpoint,
                a.User, a.Feature, a.CostCenter, a.Project, a.Env,
                TagText(a.Tags), record.RouteTarget);
        }

        /// <summary>The tags as one unambiguous text (each name and value led by its length), in name order.</summary>
        private static string TagText(IReadOnlyDictionary<string, string> tags)
        {
            if (tags.Count == 0)
            {
                return string.Empty;
            }

            if (tags.Count == 1)
            {
                var (name, value) = tags.First();
                return string.Create(CultureInfo.InvariantCulture, $"{name.Length}:{name}{value.Length}:{value}");
            }

            return string.Concat(tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key.Length}:{t.Key}{t.Value.Length}:{t.Value}")));
        }
    }
}
