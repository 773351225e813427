using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.Analytics;
using Tollgate.Analytics.UnitEconomics;
using Tollgate.Ledger;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

/// <summary>Outcomes reported by the application turn spend into unit economics: margin per feature, negative ones flagged.</summary>
public sealed class UnitEconomicsTests
{
    private static readonly DateTimeOffset Day = new(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);

    private static UsageRecord Request(string feature, string user, decimal cost, int dayOffset = 0) =>
        Records.Ok("gpt-4o-mini", Day.AddDays(dayOffset), new Usage(100, 0, 0, 10, 0), CostBreakdown.Flat(cost),
            new Attribution(null, user, null, null, feature, null, null, new Dictionary<string, string>()));

    [Fact]
    public void The_issues_example_a_feature_costing_more_than_it_earns_is_flagged()
    {
        // 100 requests at $0.043, each earning $0.031: the negative margin the team found.
        var records = Enumerable.Range(0, 100).Select(i => Request("summarise", "u" + (i % 10), 0.043m, i / 50)).ToList();
        records.AddRange(Enumerable.Range(0, 50).Select(i => Request("chat", "u" + (i % 5), 0.01m)));
        var outcomes = records.Select((r, i) => new Outcome("o" + i, r.Timestamp, r.Id, null, null, 1, r.Attribution.Feature == "summarise" ? 0.031m : 0.05m, "master")).ToList();

        var rows = UnitEconomicsReport.Build(records, outcomes, SpendGrouping.Parse("feature")!, TimeZoneInfo.Utc).ToDictionary(r => r.Group);

        var summarise = rows["summarise"];
        Assert.True(summarise.NegativeMargin);
        Assert.Equal((100, 4.3m, 0.043m, 3.1m, -1.2m, -0.012m), (summarise.Requests, summarise.CostUsd, summarise.CostPerRequestUsd, summarise.RevenueUsd, summarise.MarginUsd, summarise.MarginPerRequestUsd));
        Assert.Equal((20, 0.215m), (summarise.ActiveUserDays, summarise.CostPerActiveUserDayUsd));
        Assert.False(rows["chat"].NegativeMargin);
        Assert.Equal((5, 0.1m), (rows["chat"].ActiveUserDays, rows["chat"].CostPerActiveUserDayUsd));
    }

    [Fact]
    public void Outcomes_for_a_user_or_feature_directly_join_that_group_and_a_group_with_no_outcome_is_not_flagged()
    {
        var records = new List<UsageRecord> { Request("chat", "u1", 0.5m), Request("search", "u2", 0.2m) };
        var outcomes = new List<Outcome> { new("o1", Day, null, "u9", "chat", 2, 1.25m, "master") };

        var rows = UnitEconomicsReport.Build(records, outcomes, SpendGrouping.Parse("feature")!, TimeZoneInfo.Utc).ToDictionary(r => r.Group);

        Assert.Equal((2, 1.25m, 0.75m, 0.25m), (rows["chat"].Conversions, rows["chat"].RevenueUsd, rows["chat"].MarginUsd, rows["chat"].CostPerConversionUsd));
        Assert.False(rows["search"].NegativeMargin);
    }

    [Fact]
    public async Task Outcomes_posted_for_real_requests_show_in_the_report()
    {
        await using var gateway = await TestGateway.StartAsync("models:\n  - { alias: m, provider: mock, model: mock-gpt, price: { input_per_million: 1000, output_per_million: 1000 } }\n");
        var ids = new List<string>();
        foreach (var feature in new[] { "chat", "chat", "summarise" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Feature", feature);
            request.Headers.Add("X-User-ID", "u-" + feature);
            var response = await gateway.Client.SendAsync(request);
            ids.Add(response.Headers.GetValues("X-Request-ID").Single());
        }

        var records = await gateway.RecordsAsync(3);
        foreach (var (id, revenue) in ids.Zip(new[] { "1.00", "0", "0.000001" }))
        {
            var posted = await gateway.Client.PostAsync("/v1/outcomes", new StringContent($"{{\"request_id\":\"{id}\",\"revenue_usd\":{revenue}}}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        }

        var report = JsonDocument.Parse(await gateway.Client.GetStringAsync("/admin/analytics/unit-economics?from=1d&to=2026-12-31")).RootElement;

        var rows = report.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("group").GetString()!);
        var summariseCost = records.Where(r => r.Attribution.Feature == "summarise").Sum(r => r.Cost.Total!.Value);
        Assert.True(rows["summarise"].GetProperty("negative_margin").GetBoolean());
        Assert.Equal(0.000001m - summariseCost, rows["summarise"].GetProperty("margin_usd").GetDecimal());
        Assert.False(rows["chat"].GetProperty("negative_margin").GetBoolean());
        Assert.Equal(2, rows["chat"].GetProperty("conversions").GetInt64());
        var csv = await gateway.Client.GetStringAsync("/admin/analytics/unit-economics?format=csv&from=1d&to=2026-12-31");
        Assert.StartsWith("feature,requests,cost_usd,", csv, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}", "request_id")]
    [InlineData("{\"feature\":\"chat\",\"revenue_usd\":-1}", "revenue_usd")]
    [InlineData("{\"feature\":\"chat\",\"conversions\":-2}", "conversions")]
    [InlineData("{\"feature\":", null)]
    public async Task A_bad_outcome_is_a_400(string body, string? param)
    {
        await using var gateway = await TestGateway.StartAsync("models:\n  - { alias: m, provider: mock, model: mock-gpt }\n");

        var response = await gateway.Client.PostAsync("/v1/outcomes", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
    }
}
