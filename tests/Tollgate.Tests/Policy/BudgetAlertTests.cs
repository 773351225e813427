using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Policy;

/// <summary>Alerts at 50/80/100% of a budget reach webhook receivers on 127.0.0.1, once per threshold per period.</summary>
public sealed class BudgetAlertTests
{
    [Fact]
    public async Task Each_threshold_alerts_once_to_every_webhook_in_its_format()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var received = receiver.Received;
        var root = receiver.Root;

        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        upstream.Usage = new FakeUsage(1000, 900); // $0.019 a request at $10 per million
        await using var gateway = await TestGateway.StartAsync($"""
            alerts:
              webhooks:
                - {'{'} url: {root}/json {'}'}
                - {'{'} url: {root}/slack, format: slack {'}'}
            budgets:
              - {'{'} name: team, scope: global, period: monthly, limit_usd: 0.05, hard: false {'}'}
            models:
            {TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream.BaseUrl, "    price: { input_per_million: 10, output_per_million: 10 }")}
            """);

        for (var i = 0; i < 5; i++)
        {
            await gateway.Client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        }

        await receiver.WaitForAsync(6);
        var json = received.Where(r => r.Path == "/json").Select(r => r.Body).ToList();
        var slack = received.Where(r => r.Path == "/slack").Select(r => r.Body).ToList();
        Assert.Equal([50, 80, 100], json.Select(b => b.GetProperty("threshold_percent").GetInt32()).Order());
        Assert.All(json, b => Assert.Equal(("budget_threshold", "team"), (b.GetProperty("type").GetString(), b.GetProperty("budget").GetString())));
        Assert.Equal(3, slack.Count);
        Assert.All(slack, b => Assert.Contains("budget 'team'", b.GetProperty("text").GetString(), StringComparison.Ordinal));
    }
}
