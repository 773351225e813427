using System.Globalization;
using System.Text.Json;
using Tollgate.Analytics.Reconciliation;
using Tollgate.Ledger;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

/// <summary>
/// The ledger against a provider's cost export: an export that matches reports nothing; one with a missing day, a
/// price change and an extra request reports exactly those three, with the provider request ids of the day missing.
/// </summary>
public sealed class ReconcileTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("tollgate-reconcile-").FullName;
    private SqliteLedgerStore _ledger = null!;
    private List<UsageRecord> _records = [];

    public async Task InitializeAsync()
    {
        _ledger = new SqliteLedgerStore(Path.Combine(_directory, "ledger.db"));
        await _ledger.InitializeAsync(CancellationToken.None);
        var random = new Random(5);
        for (var day = 0; day < 5; day++)
        {
            for (var i = 0; i < 20; i++)
            {
                var (input, output) = (random.Next(100, 5_000), random.Next(10, 800));
                var cost = new CostBreakdown(input * 0.15m / 1_000_000m, 0, 0, output * 0.6m / 1_000_000m, 0, null);
                _records.Add(Records.Ok("gpt-4o-mini", Start.AddDays(day).AddMinutes(30 + (i * 50)), new Usage(input, 0, 0, output, 0), cost with { Total = cost.Input + cost.Output }) with
                {
                    UpstreamRequestId = $"req_d{day}_{i}",
                });
            }

            // A Claude call the same day: another provider, left out when reconciling OpenAI's export.
            _records.Add(Records.Ok("claude-sonnet-4-5", Start.AddDays(day).AddHours(12), new Usage(1_000, 0, 0, 100, 0), CostBreakdown.Flat(0.0045m)) with
            {
                Provider = "anthropic", Deployment = "anthropic/claude-sonnet-4-5", UpstreamRequestId = $"req_anthropic_{day}",
            });
        }

        await _ledger.AppendAsync(_records, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _ledger.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task An_openai_costs_export_that_matches_the_ledger_reports_no_difference()
    {
        var export = InvoiceExport.Read(OpenAiCosts(_ => c => c));

        Assert.Equal(5, export.Count);
        Assert.Empty(await Reconciler.ReconcileAsync(_ledger, export, "openai", Reconciler.DefaultTolerance, CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_day_a_price_change_and_an_extra_request_are_exactly_the_three_differences()
    {
        // Day 2 is missing from the export; day 3 was billed at a 25% higher price; day 4 has one more request ($0.0042).
        var export = InvoiceExport.Read(OpenAiCosts(day => day switch
        {
            1 => null,
            2 => new Func<decimal, decimal>(c => c * 1.25m),
            3 => c => c + 0.0021m,
            _ => c => c,
        }));

        var differences = await Reconciler.ReconcileAsync(_ledger, export, "openai", Reconciler.DefaultTolerance, CancellationToken.None);

        Assert.Equal(
            [("2026-11-02", "missing_in_export"), ("2026-11-03", "differs"), ("2026-11-04", "differs")],
            differences.Select(d => (d.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), d.Kind)));
        Assert.All(differences, d => Assert.Equal("gpt-4o-mini", d.Model));
        var missing = differences[0];
        Assert.Equal((20, Day(1)), (missing.LedgerRecords, missing.LedgerUsd));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"req_d1_{i}"), missing.UpstreamRequestIds);
        Assert.Equal(Day(2) * 0.25m, differences[1].DifferenceUsd);
        Assert.Equal(0.0042m, differences[2].DifferenceUsd);
    }

    [Fact]
    public async Task An_export_grouped_by_project_is_compared_per_project_through_each_deployments_provider_project()
    {
        // Even-numbered requests went through a deployment whose key is in proj_a, odd ones through proj_b's.
        static string ProjectOf(UsageRecord r) => int.Parse(r.UpstreamRequestId!.Split('_')[^1], CultureInfo.InvariantCulture) % 2 == 0 ? "proj_a" : "proj_b";
        var matching = InvoiceExport.Read(OpenAiCostsByProject(ProjectOf));

        Assert.Equal(10, matching.Count); // 5 days × 2 projects, input and output added up
        Assert.Empty(await Reconciler.ReconcileAsync(_ledger, matching, "openai", Reconciler.DefaultTolerance, CancellationToken.None, ProjectOf));

        // The provider put request 2 of day 1 in proj_b: the day's total is the same, but both projects differ by its cost
        // (about $0.0005, under the default tolerance: compared exactly here).
        var moved = _records.Single(r => r.UpstreamRequestId == "req_d1_2");
        var export = InvoiceExport.Read(OpenAiCostsByProject(r => r == moved ? "proj_b" : ProjectOf(r)));
        var differences = await Reconciler.ReconcileAsync(_ledger, export, "openai", tolerance: 0, CancellationToken.None, ProjectOf);

        Assert.Equal([("proj_a", -moved.Cost.Total!.Value), ("proj_b", moved.Cost.Total!.Value)], differences.Select(d => (d.Project, d.DifferenceUsd)));
        Assert.All(differences, d => Assert.Equal((new DateOnly(2026, 11, 2), "differs"), (d.Day, d.Kind)));
        Assert.Contains("req_d1_2", differences[0].UpstreamRequestIds);

        // The same export compared without projects agrees with the ledger day by day.
        var totals = export.GroupBy(l => (l.Day, l.Model)).Select(g => new InvoiceLine(g.Key.Day, g.Key.Model, g.Sum(l => l.CostUsd))).ToList();
        Assert.Empty(await Reconciler.ReconcileAsync(_ledger, totals, "openai", Reconciler.DefaultTolerance, CancellationToken.None, ProjectOf));
    }

    [Fact]
    public async Task An_anthropic_cost_report_in_cents_with_dated_model_names_is_read_and_matched()
    {
        var buckets = Enumerable.Range(0, 5).Select(day => new
        {
            starting_at = Start.AddDays(day).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ending_at = Start.AddDays(day + 1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            results = new object[]
            {
                new { currency = "USD", amount = "0.3", model = "claude-sonnet-4-5-20250929", cost_type = "tokens", token_type = "uncached_input_tokens", service_tier = "standard" },
                new { currency = "USD", amount = "0.15", model = "claude-sonnet-4-5-20250929", cost_type = "tokens", token_type = "output_tokens", service_tier = "standard" },
            },
        });
        var export = InvoiceExport.Read(JsonSerializer.Serialize(new { data = buckets, has_more = false, next_page = (string?)null }));

        Assert.Equal(0.0045m, export[0].CostUsd);
        Assert.Empty(await Reconciler.ReconcileAsync(_ledger, export, "anthropic", Reconciler.DefaultTolerance, CancellationToken.None));
    }

    [Fact]
    public void A_csv_export_is_read_and_an_unknown_file_is_refused_naming_what_is_expected()
    {
        var lines = InvoiceExport.Read("date,model,cost_usd\n2026-11-01,gpt-4o-mini,0.5\n2026-11-01,gpt-4o-mini,0.25\n2026-11-02,gpt-4o,1\n");

        Assert.Equal([(new DateOnly(2026, 11, 1), "gpt-4o-mini", 0.75m), (new DateOnly(2026, 11, 2), "gpt-4o", 1m)], lines.Select(l => (l.Day, l.Model, l.CostUsd)));
        Assert.Equal([null, "proj_a"], InvoiceExport.Read("date,model,cost_usd,project\n2026-11-01,gpt-4o,1,proj_a\n2026-11-01,gpt-4o,2,\n").Select(l => l.Project));
        Assert.Contains("'date', 'model' and 'cost_usd'", Assert.Throws<InvalidDataException>(() => InvoiceExport.Read("day,spend\n1,2\n")).Message, StringComparison.Ordinal);
        Assert.Contains("'data' array", Assert.Throws<InvalidDataException>(() => InvoiceExport.Read("{\"object\":\"list\"}")).Message, StringComparison.Ordinal);
    }

    /// <summary>What the ledger holds for OpenAI on a day.</summary>
    private decimal Day(int day) => _records.Where(r => r.Provider == "openai" && r.Timestamp.Date == Start.AddDays(day).Date).Sum(r => r.Cost.Total!.Value);

    /// <summary>OpenAI's Costs API page grouped by project and line item, the records' costs under the project given.</summary>
    private string OpenAiCostsByProject(Func<UsageRecord, string> projectOf) => JsonSerializer.Serialize(new
    {
        @object = "page",
        data = Enumerable.Range(0, 5).Select(day => new
        {
            @object = "bucket",
            start_time = Start.AddDays(day).ToUnixTimeSeconds(),
            end_time = Start.AddDays(day + 1).ToUnixTimeSeconds(),
            results = _records.Where(r => r.Provider == "openai" && r.Timestamp.Date == Start.AddDays(day).Date).GroupBy(projectOf).SelectMany(g => new[]
            {
                new { @object = "organization.costs.result", amount = new { value = g.Sum(r => r.Cost.Input), currency = "usd" }, line_item = "gpt-4o-mini-2024-07-18, input", project_id = g.Key },
                new { @object = "organization.costs.result", amount = new { value = g.Sum(r => r.Cost.Output), currency = "usd" }, line_item = "gpt-4o-mini-2024-07-18, output", project_id = g.Key },
            }).ToArray(),
        }),
        has_more = false,
    });

    /// <summary>
    /// OpenAI's Costs API page grouped by line item, each day's input and output cost of the dated model; a day can be
    /// left out (null) or changed.
    /// </summary>
    private string OpenAiCosts(Func<int, Func<decimal, decimal>?> change) => JsonSerializer.Serialize(new
    {
        @object = "page",
        data = Enumerable.Range(0, 5).Where(day => change(day) is not null).Select(day =>
        {
            var records = _records.Where(r => r.Provider == "openai" && r.Timestamp.Date == Start.AddDays(day).Date).ToList();
            var adjust = change(day)!;
            return new
            {
                @object = "bucket",
                start_time = Start.AddDays(day).ToUnixTimeSeconds(),
                end_time = Start.AddDays(day + 1).ToUnixTimeSeconds(),
                results = new[]
                {
                    new { @object = "organization.costs.result", amount = new { value = adjust(records.Sum(r => r.Cost.Input)), currency = "usd" }, line_item = "gpt-4o-mini-2024-07-18, input", project_id = (string?)null },
                    new { @object = "organization.costs.result", amount = new { value = adjust(records.Sum(r => r.Cost.Output)), currency = "usd" }, line_item = "gpt-4o-mini-2024-07-18, output", project_id = (string?)null },
                },
            };
        }),
        has_more = false,
        next_page = (string?)null,
    });
}
