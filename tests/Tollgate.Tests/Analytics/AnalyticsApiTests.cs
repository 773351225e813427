using System.Globalization;
using System.Net;
using System.Text.Json;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

/// <summary>
/// The analytics API over a seeded ledger of 30 days, 5 features, 3 models and 20 users: every grouping's totals equal
/// the sum of the records exactly, in JSON and CSV, per day too; the top requests are the costliest; the export is whole.
/// </summary>
public sealed class AnalyticsApiTests : IAsyncLifetime
{
    private const string Range = "from=2026-10-01&to=2026-10-31";
    private static readonly DateTimeOffset FirstDay = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly SeededLedger _ledger = new(FirstDay, days: 30, requestsPerDay: 40);
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync(
        "models:\n  - alias: m\n    provider: mock\n    model: mock-gpt\n", prepareDataDirectory: dir => _ledger.WriteAsync(Path.Combine(dir, "ledger.db")));

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        var response = await _gateway.Client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    public static TheoryData<string> Groupings() => ["feature", "model", "user", "cost-center", "key", "day", "tag:team", "project"];

    [Theory]
    [MemberData(nameof(Groupings))]
    public async Task Every_groupings_totals_equal_the_sum_of_the_records_exactly(string groupBy)
    {
        var report = await GetJsonAsync($"/admin/analytics/spend?group_by={groupBy}&{Range}");

        var expected = _ledger.Records.GroupBy(r => KeyOf(r, groupBy)).ToDictionary(g => g.Key, g => (Count: g.LongCount(), Cost: g.Sum(r => r.Cost.Total!.Value)));
        var rows = report.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(expected.Count, rows.Count);
        foreach (var row in rows)
        {
            var (count, cost) = expected[row.GetProperty("group").GetString()!];
            Assert.Equal(count, row.GetProperty("requests").GetInt64());
            Assert.Equal(cost, row.GetProperty("cost_usd").GetDecimal());
        }

        Assert.Equal(_ledger.Records.Sum(r => r.Cost.Total!.Value), rows.Sum(r => r.GetProperty("cost_usd").GetDecimal()));
    }

    [Fact]
    public async Task Per_day_rows_by_feature_add_up_to_each_days_and_each_features_spend()
    {
        var rows = (await GetJsonAsync($"/admin/analytics/spend?group_by=feature&interval=day&{Range}")).GetProperty("rows").EnumerateArray().ToList();

        Assert.Equal(30, rows.Select(r => r.GetProperty("period").GetString()).Distinct().Count());
        foreach (var day in _ledger.Records.GroupBy(r => r.Timestamp.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))
        {
            Assert.Equal(day.Sum(r => r.Cost.Total!.Value), rows.Where(r => r.GetProperty("period").GetString() == day.Key).Sum(r => r.GetProperty("cost_usd").GetDecimal()));
        }

        Assert.All(rows, r => Assert.Equal(
            _ledger.Records.Where(x => x.Timestamp.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) == r.GetProperty("period").GetString() && x.Attribution.Feature == r.GetProperty("group").GetString()).Sum(x => x.Cost.Total!.Value),
            r.GetProperty("cost_usd").GetDecimal()));
    }

    [Fact]
    public async Task The_csv_report_has_the_same_exact_totals()
    {
        var csv = await _gateway.Client.GetStringAsync($"/admin/analytics/spend?group_by=user&format=csv&{Range}");

        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var costColumn = Array.IndexOf(lines[0].Split(','), "cost_usd");
        Assert.Equal(21, lines.Length);
        Assert.Equal(_ledger.Records.Sum(r => r.Cost.Total!.Value), lines.Skip(1).Sum(l => decimal.Parse(l.Split(',')[costColumn], CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task A_time_range_keeps_only_its_records()
    {
        var rows = (await GetJsonAsync("/admin/analytics/spend?group_by=model&from=2026-10-10&to=2026-10-12")).GetProperty("rows").EnumerateArray();

        var inRange = _ledger.Records.Where(r => r.Timestamp >= FirstDay.AddDays(9) && r.Timestamp < FirstDay.AddDays(11)).ToList();
        Assert.Equal(inRange.Count, rows.Sum(r => r.GetProperty("requests").GetInt64()));
        Assert.Equal(inRange.Sum(r => r.Cost.Total!.Value), rows.Sum(r => r.GetProperty("cost_usd").GetDecimal()));
    }

    [Fact]
    public async Task Top_requests_are_the_costliest_in_order()
    {
        var top = (await GetJsonAsync($"/admin/analytics/top-requests?limit=15&{Range}")).EnumerateArray().ToList();

        var expected = _ledger.Records.OrderByDescending(r => r.Cost.Total).Take(15).Select(r => r.Id).ToList();
        Assert.Equal(expected, top.Select(r => r.GetProperty("id").GetString()));
        Assert.Equal(_ledger.Records.Max(r => r.Cost.Total), top[0].GetProperty("cost_total_usd").GetDecimal());
    }

    [Fact]
    public async Task The_record_export_holds_every_record_whole_in_csv_and_json()
    {
        var csv = await _gateway.Client.GetStringAsync($"/admin/analytics/records?format=csv&{Range}");
        var json = await GetJsonAsync($"/admin/analytics/records?{Range}");

        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        Assert.Equal(_ledger.Records.Count + 1, lines.Length);
        Assert.Equal(_ledger.Records.Sum(r => r.Cost.Total!.Value), lines.Skip(1).Sum(l => decimal.Parse(l.Split(',')[Array.IndexOf(header, "cost_total_usd")], CultureInfo.InvariantCulture)));
        var first = json.EnumerateArray().First();
        var record = _ledger.Records[0];
        Assert.Equal(_ledger.Records.Count, json.GetArrayLength());
        Assert.Equal((record.Id, record.Attribution.User, record.Attribution.Tags["team"], record.Cost.Total), (first.GetProperty("id").GetString(), first.GetProperty("user").GetString(), first.GetProperty("tags").GetProperty("team").GetString(), first.GetProperty("cost_total_usd").GetDecimal()));
    }

    [Theory]
    [InlineData("/admin/analytics/spend?group_by=colour", "group_by")]
    [InlineData("/admin/analytics/spend?interval=week", "interval")]
    [InlineData("/admin/analytics/spend?format=xml", "format")]
    [InlineData("/admin/analytics/spend?from=yesterday", "from")]
    [InlineData("/admin/analytics/top-requests?limit=0", "limit")]
    [InlineData("/admin/analytics/records?from=2026-10-05&to=2026-10-01", "to")]
    public async Task Bad_parameters_are_a_400_naming_the_parameter(string path, string param)
    {
        var response = await _gateway.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Analytics_need_the_master_key()
    {
        using var anonymous = new HttpClient { BaseAddress = _gateway.BaseUrl };

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/admin/analytics/spend")).StatusCode);
    }

    private static string KeyOf(UsageRecord r, string groupBy) => groupBy switch
    {
        "feature" => r.Attribution.Feature!,
        "model" => r.UpstreamModel,
        "user" => r.Attribution.User!,
        "cost-center" => r.Attribution.CostCenter!,
        "key" => r.Attribution.KeyId!,
        "day" => r.Timestamp.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        "tag:team" => r.Attribution.Tags["team"],
        "project" => r.Attribution.Project!,
        _ => throw new ArgumentOutOfRangeException(nameof(groupBy)),
    };
}
