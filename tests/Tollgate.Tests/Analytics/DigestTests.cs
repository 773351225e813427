using System.Text.Json;
using Tollgate.Analytics.Digest;
using Tollgate.Ledger;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

/// <summary>
/// The spend digest is due after its day or week ends, in the configured time zone; it and the month-end forecast
/// alert reach the webhooks once per period, a restart included; and one can be sent by hand.
/// </summary>
public sealed class DigestTests
{
    private static readonly TimeZoneInfo Saigon = TimeZoneInfo.FindSystemTimeZoneById("Asia/Ho_Chi_Minh");

    [Fact]
    public void A_weekly_digest_covers_the_last_whole_week_and_is_due_from_its_hour_on_the_day_after()
    {
        var weekly = DigestSettings.Default with { Every = "weekly", Weekday = DayOfWeek.Monday, Hour = 9 };

        // Wednesday 2026-12-09, 10:00 in Saigon: the week of Monday 2026-11-30 ended on Monday 2026-12-07.
        var wednesday = new DateTimeOffset(2026, 12, 9, 3, 0, 0, TimeSpan.Zero);
        Assert.Equal(
            (new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.FromHours(7)), new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.FromHours(7))),
            DigestSchedule.LastCompletePeriod(wednesday, weekly, Saigon));
        Assert.True(DigestSchedule.IsDue(wednesday, weekly, Saigon));

        // Monday 08:00 in Saigon: that week has ended, but its digest waits for 09:00.
        Assert.False(DigestSchedule.IsDue(new DateTimeOffset(2026, 12, 7, 1, 0, 0, TimeSpan.Zero), weekly, Saigon));
        Assert.True(DigestSchedule.IsDue(new DateTimeOffset(2026, 12, 7, 2, 0, 0, TimeSpan.Zero), weekly, Saigon));

        var daily = weekly with { Every = "daily" };
        Assert.Equal(
            (new DateTimeOffset(2026, 12, 8, 0, 0, 0, TimeSpan.FromHours(7)), new DateTimeOffset(2026, 12, 9, 0, 0, 0, TimeSpan.FromHours(7))),
            DigestSchedule.LastCompletePeriod(wednesday, daily, Saigon));
        Assert.False(DigestSchedule.IsDue(wednesday, weekly with { Every = null }, Saigon));
    }

    [Fact]
    public async Task The_digest_and_the_forecast_alert_reach_the_webhooks_once_a_restart_included_and_a_digest_can_be_sent_by_hand()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var today = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero);
        var records = new List<UsageRecord>();
        for (var i = 0; i < 10; i++)
        {
            records.Add(Record(today.AddDays(-1).AddHours(1 + i), i % 2 == 0 ? "search" : "chat", 0.01m));
        }

        for (var i = 0; i < 5; i++)
        {
            records.Add(Record(today.AddDays(-2).AddHours(3 + i), "chat", 0.004m));
        }

        // This month's spend already past the $0.05 monthly budget: its forecast is too.
        records.Add(Record(today.AddSeconds(1), "chat", 0.06m));
        var gateway = await TestGateway.StartAsync($$"""
            alerts:
              webhooks:
                - { url: {{receiver.Root}}/json }
                - { url: {{receiver.Root}}/slack, format: slack }
              digest: { every: daily, hour: 0, group_by: feature, top: 3 }
            budgets:
              - { name: team, scope: global, period: monthly, limit_usd: 0.05, hard: false }
            models:
              - { alias: m, provider: mock, model: mock-gpt }
            """, prepareDataDirectory: async directory =>
            {
                await using var ledger = new SqliteLedgerStore(Path.Combine(directory, "ledger.db"));
                await ledger.InitializeAsync(CancellationToken.None);
                await ledger.AppendAsync(records, CancellationToken.None);
            });
        await using (var restarted = await RunAndRestartAsync(gateway, receiver))
        {
            var kinds = Json(receiver).Select(body => body.GetProperty("type").GetString()).Order().ToList();
            Assert.Equal(["budget_forecast", "spend_digest"], kinds);
            var digest = Json(receiver).Single(body => body.GetProperty("type").GetString() == "spend_digest");
            Assert.Equal((10, 0.10m, 0.020m), (digest.GetProperty("requests").GetInt32(), digest.GetProperty("cost_usd").GetDecimal(), digest.GetProperty("previous_cost_usd").GetDecimal()));
            Assert.Equal(
                [("chat", 0.05m, 0.020m), ("search", 0.05m, 0m)],
                digest.GetProperty("top").EnumerateArray().Select(g => (g.GetProperty("group").GetString(), g.GetProperty("cost_usd").GetDecimal(), g.GetProperty("previous_cost_usd").GetDecimal())).OrderBy(g => g.Item1));
            var forecast = Json(receiver).Single(body => body.GetProperty("type").GetString() == "budget_forecast");
            Assert.Equal("team", forecast.GetProperty("budget").GetString());
            Assert.True(forecast.GetProperty("forecast_usd").GetDecimal() >= 0.05m);

            // Slack's incoming webhook gets the same two as text.
            var slack = receiver.Received.Where(r => r.Path == "/slack").Select(r => r.Body.GetProperty("text").GetString()!).ToList();
            Assert.Equal(2, slack.Count);
            Assert.Contains(slack, text => text.StartsWith("Tollgate daily digest", StringComparison.Ordinal) && text.Contains("$0.10 over 10 requests (+400% on the day before)", StringComparison.Ordinal) && text.Contains("• chat: $0.05", StringComparison.Ordinal));
            Assert.Contains(slack, text => text.StartsWith("Tollgate: budget 'team' is forecast to end", StringComparison.Ordinal));

            // By hand, whatever the schedule: sent again, and answered with.
            using var sent = await restarted.Client.PostAsync("/admin/analytics/digest?every=daily", null);
            using var answer = JsonDocument.Parse(await sent.Content.ReadAsStringAsync());
            Assert.Equal(0.10m, answer.RootElement.GetProperty("cost_usd").GetDecimal());
            await receiver.WaitForAsync(6);
            Assert.Equal(2, Json(receiver).Count(body => body.GetProperty("type").GetString() == "spend_digest"));
            using var wrong = await restarted.Client.PostAsync("/admin/analytics/digest?every=hourly", null);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, wrong.StatusCode);
        }
    }

    /// <summary>Waits for the first gateway's alerts, restarts it on the same data, and gives its monitor time to (not) send them again.</summary>
    private static async Task<TestGateway> RunAndRestartAsync(TestGateway gateway, WebhookReceiver receiver)
    {
        await receiver.WaitForAsync(4);
        var restarted = await gateway.RestartAsync();
        Assert.Empty(await restarted.Service<DigestMonitor>().CheckAsync(CancellationToken.None));
        return restarted;
    }

    private static IEnumerable<JsonElement> Json(WebhookReceiver receiver) => receiver.Received.Where(r => r.Path == "/json").Select(r => r.Body);

    private static UsageRecord Record(DateTimeOffset at, string feature, decimal cost) =>
        Records.Ok("mock-gpt", at, new Usage(100, 0, 0, 10, 0), CostBreakdown.Flat(cost), new Attribution(null, null, null, null, feature, null, null, new Dictionary<string, string>()));
}
