using System.Text.Json;
using Tollgate.Analytics.Anomalies;
using Tollgate.Configuration;
using Tollgate.Ledger;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

/// <summary>
/// Anomalous spend: a feature whose day costs 1.5× its trailing 7-day mean is found, alone, and alerted exactly once
/// to a webhook on 127.0.0.1; steady spend, new features and small amounts are not.
/// </summary>
public sealed class AnomalyTests
{
    private static readonly string[] Features = ["chat", "search", "summarise", "embed-docs", "translate"];
    private static readonly string[] Models = ["gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash"];

    /// <summary>
    /// Eight days of steady spend ($0.05 a request, 60 requests per feature per day, spread over models, keys and cost
    /// centres in turn), the last day ending before <paramref name="today"/>; on that day one feature makes 1.5× its
    /// usual requests.
    /// </summary>
    private static List<UsageRecord> Ledger(DateOnly today, string? spiking = "embed-docs", decimal spike = 1.5m)
    {
        var records = new List<UsageRecord>();
        var n = 0;
        for (var back = 8; back >= 1; back--)
        {
            var day = new DateTimeOffset(today.AddDays(-back).ToDateTime(new TimeOnly(0, 0)), TimeSpan.Zero);
            foreach (var feature in Features)
            {
                var count = back == 1 && feature == spiking ? (int)(60 * spike) : 60;
                for (var i = 0; i < count; i++, n++)
                {
                    var attribution = new Attribution("key_" + (n % 3), "user-" + (n % 20), null, new[] { "growth", "support", "platform" }[n % 3], feature, "atlas", "prod", new Dictionary<string, string>());
                    records.Add(Records.Ok(Models[n % 3], day.AddMinutes(i * 20 % 1440), new Usage(1000, 0, 0, 100, 0), new CostBreakdown(0.04m, 0, 0, 0.01m, 0, 0.05m), attribution));
                }
            }
        }

        return records;
    }

    private static readonly DateOnly Today = new(2026, 11, 24);
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 9, 30, 0, TimeSpan.Zero);

    [Fact]
    public void A_feature_at_one_and_a_half_times_its_trailing_mean_is_the_only_anomaly()
    {
        var anomaly = Assert.Single(AnomalyDetector.Daily(Ledger(Today), Today.AddDays(-1), AnomalySettings.Default, TimeZoneInfo.Utc, Now));

        Assert.Equal(("daily", "feature", "embed-docs", "2026-11-23"), (anomaly.Kind, anomaly.Dimension, anomaly.Value, anomaly.Period));
        Assert.Equal((4.5m, 3m, 1.5m), (anomaly.CostUsd, anomaly.BaselineUsd, anomaly.Ratio));
    }

    [Theory]
    [InlineData(null, 1.0)]
    [InlineData("embed-docs", 1.15)]
    public void Steady_spend_or_a_rise_under_the_factor_is_not_an_anomaly(string? spiking, double spike)
    {
        Assert.Empty(AnomalyDetector.Daily(Ledger(Today, spiking, (decimal)spike), Today.AddDays(-1), AnomalySettings.Default, TimeZoneInfo.Utc, Now));
    }

    [Fact]
    public void A_new_feature_has_no_normal_to_exceed_and_a_small_one_is_under_the_minimum()
    {
        var records = Ledger(Today, spiking: null);
        var yesterday = new DateTimeOffset(Today.AddDays(-1).ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);
        records.Add(Records.Ok("gpt-4o-mini", yesterday, new Usage(1, 0, 0, 1, 0), CostBreakdown.Flat(50m), new Attribution(null, null, null, null, "brand-new", null, null, new Dictionary<string, string>())));

        var anomalies = AnomalyDetector.Daily(records, Today.AddDays(-1), AnomalySettings.Default with { Dimensions = ["feature"] }, TimeZoneInfo.Utc, Now);

        Assert.Empty(anomalies);
        Assert.Empty(AnomalyDetector.Daily(Ledger(Today), Today.AddDays(-1), AnomalySettings.Default with { MinDailyUsd = 5m }, TimeZoneInfo.Utc, Now));
    }

    [Fact]
    public void An_hour_far_above_the_mean_hour_of_the_day_before_is_an_hourly_spike()
    {
        var hour = new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);
        var records = Enumerable.Range(1, 24).Select(h => Records.Ok("gpt-4o-mini", hour.AddHours(-h).AddMinutes(5), new Usage(1, 0, 0, 1, 0), CostBreakdown.Flat(1m))).ToList();
        records.AddRange(Enumerable.Range(0, 4).Select(i => Records.Ok("gpt-4o-mini", hour.AddMinutes(10 + i), new Usage(1, 0, 0, 1, 0), CostBreakdown.Flat(1m))));

        var spike = Assert.Single(AnomalyDetector.Hourly(records, hour, AnomalySettings.Default with { Dimensions = ["global"] }, TimeZoneInfo.Utc, Now));

        Assert.Equal(("hourly", "global", "all", "2026-11-24T08:00", 4m, 1m), (spike.Kind, spike.Dimension, spike.Value, spike.Period, spike.CostUsd, spike.BaselineUsd));
    }

    [Fact]
    public async Task The_gateway_alerts_a_seeded_spike_exactly_once_however_often_it_checks()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var records = Ledger(today);
        await using var gateway = await TestGateway.StartAsync($$"""
            alerts:
              webhooks:
                - { url: {{receiver.Root}}/json }
            models:
              - { alias: m, provider: mock, model: mock-gpt }
            """, prepareDataDirectory: async dir =>
            {
                await using var store = new Tollgate.Ledger.Sqlite.SqliteLedgerStore(Path.Combine(dir, "ledger.db"));
                await store.InitializeAsync(CancellationToken.None);
                await store.AppendAsync(records, CancellationToken.None);
            });

        var first = await gateway.Client.PostAsync("/admin/analytics/anomalies/check", null);
        var second = await gateway.Client.PostAsync("/admin/analytics/anomalies/check", null);
        await receiver.WaitForAsync(1);

        var alert = Assert.Single(receiver.Received).Body;
        Assert.Equal(("spend_anomaly", "daily", "feature", "embed-docs"), (alert.GetProperty("type").GetString(), alert.GetProperty("kind").GetString(), alert.GetProperty("dimension").GetString(), alert.GetProperty("value").GetString()));
        Assert.Equal(1.5m, alert.GetProperty("ratio").GetDecimal());
        Assert.Equal(0, JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement.GetProperty("data").GetArrayLength());
        Assert.True(first.IsSuccessStatusCode);
        var listed = JsonDocument.Parse(await gateway.Client.GetStringAsync("/admin/analytics/anomalies")).RootElement.GetProperty("data");
        Assert.Equal("embed-docs", Assert.Single(listed.EnumerateArray()).GetProperty("value").GetString());
        var csv = (await gateway.Client.GetStringAsync("/admin/analytics/anomalies?format=csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("kind,dimension,value,period,cost_usd,baseline_usd,ratio,detected_at", csv[0]);
        Assert.StartsWith("daily,feature,embed-docs,", Assert.Single(csv.Skip(1)), StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_dimensions_and_factors_of_one_or_less_are_config_errors()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("""
            anomalies: { dimensions: [feature, colour], daily_factor: 1 }
            models:
              - { alias: m, provider: mock, model: m }
            """, "test", _ => null));

        Assert.Contains("colour", error.Message, StringComparison.Ordinal);
        Assert.Contains("daily_factor", error.Message, StringComparison.Ordinal);
    }
}
