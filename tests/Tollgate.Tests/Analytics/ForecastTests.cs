using System.Net;
using System.Text.Json;
using Tollgate.Analytics.Forecasting;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

/// <summary>Month-end forecasts: weekday-aware, within 5% on a steady month, with a range that holds the outcome.</summary>
/// <remarks>Its tests capture the process-wide console: they run apart from the other class that does.</remarks>
[Collection("console")]
public sealed class ForecastTests
{
    private static readonly DateTimeOffset October = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Weekdays cost about three times a weekend day; every request's cost is noisy.</summary>
    private static SeededLedger SteadyAutumn(int seed = 7) => new(October, days: 61, requestsPerDay: 60, seed: seed,
        dayFactor: d => d.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0.3m : 1m);

    private static decimal November(SeededLedger ledger) => ledger.Records.Where(r => r.Timestamp.Month == 11).Sum(r => r.Cost.Total!.Value);

    [Theory]
    [InlineData(7, 5)]
    [InlineData(11, 12)]
    [InlineData(13, 20)]
    [InlineData(17, 27)]
    public void A_steady_month_is_forecast_within_5_percent_and_inside_the_range(int seed, int dayOfNovember)
    {
        var ledger = SteadyAutumn(seed);
        var asOf = new DateTimeOffset(2026, 11, dayOfNovember, 13, 0, 0, TimeSpan.Zero);

        var forecast = MonthEndForecast.Of(ledger.Records.Select(r => (r.Timestamp, r.Cost.Total!.Value)), asOf, TimeZoneInfo.Utc);

        var actual = November(ledger);
        Assert.InRange(Math.Abs(forecast.ForecastUsd - actual) / actual, 0m, 0.05m);
        Assert.InRange(actual, forecast.LowUsd, forecast.HighUsd);
        Assert.Equal(ledger.Records.Where(r => r.Timestamp.Month == 11 && r.Timestamp <= asOf).Sum(r => r.Cost.Total!.Value), forecast.SpentUsd);
    }

    [Fact]
    public void The_weekday_pattern_matters_a_flat_average_would_miss_a_month_ending_on_weekends()
    {
        // Weekdays cost 10, weekends 0: a month whose remaining days are mostly weekend must not be forecast at the average.
        var costs = Enumerable.Range(0, 61).Select(i => October.AddDays(i).AddHours(12))
            .Select(at => (at, at.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday ? 0m : 10m)).ToList();
        var asOf = new DateTimeOffset(2026, 11, 27, 23, 59, 0, TimeSpan.Zero);

        var forecast = MonthEndForecast.Of(costs, asOf, TimeZoneInfo.Utc);

        // 28 and 29 November 2026 are a Saturday and a Sunday, the 30th a Monday: 21 weekdays in all, 210.
        Assert.Equal(costs.Where(c => c.at.Month == 11).Sum(c => c.Item2), forecast.ForecastUsd, 1);
    }

    [Fact]
    public void With_no_complete_day_the_month_runs_on_at_the_rate_so_far()
    {
        var asOf = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

        var forecast = MonthEndForecast.Of([(asOf.AddHours(-2), 5m)], asOf, TimeZoneInfo.Utc);

        Assert.Equal(5m * 2 * 30, forecast.ForecastUsd);
        Assert.StartsWith("run-rate", forecast.Method, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_api_forecasts_the_month_and_each_monthly_budget_against_its_limit()
    {
        var ledger = SteadyAutumn();
        await using var gateway = await TestGateway.StartAsync("""
            budgets:
              - { name: all, scope: global, period: monthly, limit_usd: 0.5, hard: false }
              - { name: chat, scope: feature, value: chat, period: monthly, limit_usd: 1000, hard: false }
              - { name: daily, scope: global, period: daily, limit_usd: 1, hard: false }
            models:
              - { alias: m, provider: mock, model: mock-gpt }
            """, prepareDataDirectory: dir => ledger.WriteAsync(Path.Combine(dir, "ledger.db")));

        var response = await gateway.Client.GetAsync("/admin/analytics/forecast?as_of=2026-11-15T12:00");
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2026-11", body.GetProperty("month").GetString());
        var actual = November(ledger);
        Assert.InRange(Math.Abs(body.GetProperty("forecast_usd").GetDecimal() - actual) / actual, 0m, 0.05m);
        var budgets = body.GetProperty("budgets").EnumerateArray().ToDictionary(b => b.GetProperty("name").GetString()!);
        Assert.Equal(["all", "chat"], budgets.Keys.Order());
        Assert.Equal("over", budgets["all"].GetProperty("status").GetString());
        Assert.Equal("under", budgets["chat"].GetProperty("status").GetString());
        var chatActual = ledger.Records.Where(r => r.Timestamp.Month == 11 && r.Attribution.Feature == "chat").Sum(r => r.Cost.Total!.Value);
        Assert.InRange(Math.Abs(budgets["chat"].GetProperty("forecast_usd").GetDecimal() - chatActual) / chatActual, 0m, 0.10m);

        var csv = (await gateway.Client.GetStringAsync("/admin/analytics/forecast?as_of=2026-11-15T12:00&format=csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, csv.Length);
        Assert.StartsWith("budget,scope,value,limit_usd,spent_usd,forecast_usd,low_usd,high_usd,forecast_percent,status", csv[0], StringComparison.Ordinal);
        Assert.Contains(csv, line => line.StartsWith("all,global,,0.5,", StringComparison.Ordinal) && line.EndsWith(",over", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_cli_prints_the_forecast_of_the_running_gateway_as_csv()
    {
        await using var gateway = await TestGateway.StartAsync("models:\n  - { alias: m, provider: mock, model: mock-gpt }\n");
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        int exit;
        try
        {
            exit = await Tollgate.Cli.TollgateCli.Build().Parse(["analytics", "forecast", "--format", "csv", "--url", gateway.BaseUrl.AbsoluteUri, "--master-key", TestGateway.MasterKey]).InvokeAsync();
        }
        finally
        {
            Console.SetOut(previous);
        }

        Assert.Equal(0, exit);
        Assert.Contains("(all spend),global,", output.ToString(), StringComparison.Ordinal);
    }
}
