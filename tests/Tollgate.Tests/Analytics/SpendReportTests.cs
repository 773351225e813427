using Tollgate.Analytics;
using Tollgate.Ledger;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

public sealed class SpendReportTests : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"tollgate-report-{Guid.NewGuid():N}.db");
    private SqliteLedgerStore _store = null!;

    public async Task InitializeAsync()
    {
        _store = new SqliteLedgerStore(_path);
        await _store.InitializeAsync(CancellationToken.None);
        var day = new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);
        await _store.AppendAsync(
        [
            Record("r1", day, "gpt-4o-mini", "search", "team=core", 0.0000123456789m),
            Record("r2", day.AddHours(30), "gpt-4o-mini", "chat", "team=core", 0.5m),
            Record("r3", day.AddHours(31), "claude-sonnet-4-5", "chat", "team=growth", 1.25m),
            Record("r4", day.AddHours(32), "ft:private", null, null, null),
        ], CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        File.Delete(_path);
    }

    [Fact]
    public async Task Totals_are_exact_sums_of_the_records_by_every_grouping()
    {
        foreach (var by in new[] { "model", "feature", "day", "tag:team", "key", "user", "cost-center", "provider", "status" })
        {
            var rows = await SpendReport.BuildAsync(_store, SpendGrouping.Parse(by)!, DateTimeOffset.UnixEpoch, CancellationToken.None);

            Assert.Equal(1.7500123456789m, rows.Sum(r => r.CostUsd));
            Assert.Equal(4, rows.Sum(r => r.Requests));
            Assert.Equal(1, rows.Sum(r => r.UnpricedRequests));
        }
    }

    [Fact]
    public async Task Groups_are_ordered_by_cost_and_missing_values_are_grouped_as_none()
    {
        var byFeature = await SpendReport.BuildAsync(_store, SpendGrouping.Parse("feature")!, DateTimeOffset.UnixEpoch, CancellationToken.None);
        var byDay = await SpendReport.BuildAsync(_store, SpendGrouping.Parse("day")!, DateTimeOffset.UnixEpoch, CancellationToken.None);

        Assert.Equal(["chat", "search", SpendGrouping.None], byFeature.Select(r => r.Group));
        Assert.Equal(1.75m, byFeature[0].CostUsd);
        Assert.Equal(["2026-11-21", "2026-11-20"], byDay.Select(r => r.Group));
    }

    [Fact]
    public async Task Since_leaves_out_older_records()
    {
        var rows = await SpendReport.BuildAsync(_store, SpendGrouping.Parse("model")!, new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);

        Assert.Equal(3, rows.Sum(r => r.Requests));
    }

    [Fact]
    public void Unknown_groupings_are_rejected()
    {
        Assert.Null(SpendGrouping.Parse("colour"));
        Assert.Null(SpendGrouping.Parse("tag:"));
    }

    private static UsageRecord Record(string id, DateTimeOffset at, string model, string? feature, string? tag, decimal? cost)
    {
        var tags = tag is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [tag.Split('=')[0]] = tag.Split('=')[1] };
        return Records.Ok(model, at, new Usage(100, 10, null, 50, 5), cost is null ? CostBreakdown.Unknown : new CostBreakdown(cost.Value, 0, 0, 0, 0, cost),
            new Attribution("master", "u1", null, "CC-1", feature, null, null, tags)) with { Id = id };
    }
}
