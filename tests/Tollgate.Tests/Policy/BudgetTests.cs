using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;
using Tollgate.Policy.Budgets;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Policy;

public sealed class BudgetTests : IAsyncLifetime
{
    private FakeOpenAiUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAiUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    /// <summary>
    /// $10 per million tokens either way: a request with max_tokens 1900 and a short prompt (bounded with the counter's
    /// 64-token allowance for hidden format tokens) can cost at most $0.02.
    /// </summary>
    // Every call goes to the provider once: these tests count what failed calls leave behind.
    private string Config(string budgets) => $"""
        retries:
          max_retries: 0
        circuit_breaker:
          failures: 100000
        budgets:
        {budgets}
        models:
        {TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", _upstream.BaseUrl, "    price: { input_per_million: 10, output_per_million: 10 }")}
        """;

    private static StringContent Chat() => new("""{"model":"gpt-4o-mini","max_tokens":1900,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task Two_hundred_concurrent_requests_cannot_overspend_a_hard_budget()
    {
        // Each answer really costs $0.019 (1,900 tokens), so the budget binds: at most 52 fit in $1.00.
        _upstream.Usage = new FakeUsage(1000, 900);
        await using var gateway = await TestGateway.StartAsync(Config("  - { name: all, scope: global, period: total, limit_usd: 1.00, hard: true }"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => gateway.Client.PostAsync("/v1/chat/completions", Chat())));

        var admitted = responses.Count(r => r.StatusCode == HttpStatusCode.OK);
        var records = await gateway.RecordsAsync(admitted);
        Assert.Equal(admitted, records.Count);
        Assert.True(records.Sum(r => r.Cost.Total ?? 0) <= 1.00m, $"spent {records.Sum(r => r.Cost.Total ?? 0)}");
        Assert.True(admitted >= 45, $"only {admitted} admitted");
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
        var refusal = responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Equal("budget_exceeded", JsonDocument.Parse(await refusal.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(200 - admitted, responses.Length - _upstream.Received.Count);
    }

    [Fact]
    public async Task A_failed_call_releases_its_reservation_and_the_remaining_budget_is_sent_back()
    {
        _upstream.Fault = FakeFault.ErrorStatus;
        await using var gateway = await TestGateway.StartAsync(Config("  - { name: small, scope: global, period: daily, limit_usd: 0.05 }"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            statuses.Add((await gateway.Client.PostAsync("/v1/chat/completions", Chat())).StatusCode);
        }

        _upstream.Fault = FakeFault.None;
        var ok = await gateway.Client.PostAsync("/v1/chat/completions", Chat());

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.InternalServerError, s));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var remaining = decimal.Parse(ok.Headers.GetValues("X-Tollgate-Budget-Remaining").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(remaining is > 0.03m and < 0.05m, remaining.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_budget_counts_only_its_scope_and_a_soft_budget_never_refuses()
    {
        _upstream.Usage = new FakeUsage(1000, 900);
        await using var gateway = await TestGateway.StartAsync(Config("""
              - { name: search, scope: feature, value: search, period: monthly, limit_usd: 0.03 }
              - { name: soft, scope: global, period: monthly, limit_usd: 0.0001, hard: false }
            """));

        async Task<HttpStatusCode> Send(string feature)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Chat() };
            request.Headers.Add("X-Feature", feature);
            return (await gateway.Client.SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await Send("search"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Send("search"));
        Assert.Equal(HttpStatusCode.OK, await Send("chat"));
        Assert.Equal(HttpStatusCode.OK, await Send("chat"));
    }

    [Fact]
    public async Task Spend_already_in_the_ledger_counts_after_a_restart()
    {
        await using var gateway = await TestGateway.StartAsync(Config("  - { name: all, scope: global, period: monthly, limit_usd: 1.00 }"), prepareDataDirectory: async data =>
        {
            await using var store = new SqliteLedgerStore(Path.Combine(data, "ledger.db"));
            await store.InitializeAsync(CancellationToken.None);
            await store.AppendAsync([Records.Ok("gpt-4o-mini", DateTimeOffset.UtcNow, new Usage(1, 0, null, 1, 0), CostBreakdown.Flat(0.99m))], CancellationToken.None);
        });

        var response = await gateway.Client.PostAsync("/v1/chat/completions", Chat());

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
    }

    [Fact]
    public async Task No_reservation_leaks_whether_calls_succeed_fail_or_are_cancelled_mid_stream()
    {
        _upstream.Usage = new FakeUsage(300, 200);
        await using var failing = await FakeOpenAiUpstream.StartAsync();
        failing.Fault = FakeFault.ErrorStatus;
        await using var slow = await FakeOpenAiUpstream.StartAsync();
        slow.ChunkDelay = TimeSpan.FromMilliseconds(20);
        slow.ReplyText = string.Join(' ', Enumerable.Repeat("word", 100));
        const string Price = "    price: { input_per_million: 10, output_per_million: 10 }";
        await using var gateway = await TestGateway.StartAsync(
            "retries:\n  max_retries: 0\ncircuit_breaker:\n  failures: 100000\n"
            + "budgets:\n  - { name: all, scope: global, period: monthly, limit_usd: 1000 }\nmodels:\n"
            + string.Join('\n', TestGateway.Model("ok", "gpt-4o-mini", _upstream.BaseUrl, Price),
                TestGateway.Model("failing", "gpt-4o-mini", failing.BaseUrl, Price),
                TestGateway.Model("slow", "gpt-4o-mini", slow.BaseUrl, Price)));
        using var gate = new SemaphoreSlim(50);

        async Task SendAsync(int i)
        {
            await gate.WaitAsync();
            try
            {
                var model = (i % 3) switch { 0 => "ok", 1 => "failing", _ => "slow" };
                var body = $$"""{"model":"{{model}}","stream":{{(model == "slow" ? "true" : "false")}},"max_tokens":500,"messages":[{"role":"user","content":"hi {{i}}"}]}""";
                using var cancel = new CancellationTokenSource();
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                using var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
                if (model == "slow")
                {
                    await using var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
                    Assert.True(await stream.ReadAsync(new byte[64], cancel.Token) > 0);
                    await cancel.CancelAsync();
                }
                else
                {
                    await response.Content.ReadAsStringAsync(cancel.Token);
                }
            }
            finally
            {
                gate.Release();
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 600).Select(SendAsync));
        var records = await gateway.RecordsAsync(600);

        Assert.Equal(600, records.Count);
        Assert.Equal(200, records.Count(r => r.Status == RecordStatus.ClientCancelled));
        var account = Assert.Single(gateway.Service<BudgetGuard>().Snapshot());
        Assert.Equal(0m, account.Reserved);
        Assert.Equal(records.Sum(r => r.Cost.Total ?? 0), account.Spent);
    }

    [Theory]
    [InlineData(BudgetPeriod.Daily, "2026-11-24T00:00:00+07:00", "2026-11-25T00:00:00+07:00")]
    [InlineData(BudgetPeriod.Weekly, "2026-11-23T00:00:00+07:00", "2026-11-30T00:00:00+07:00")]
    [InlineData(BudgetPeriod.Monthly, "2026-11-01T00:00:00+07:00", "2026-12-01T00:00:00+07:00")]
    public void Periods_follow_the_calendar_of_the_configured_time_zone(BudgetPeriod period, string start, string reset)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Ho_Chi_Minh");
        var budget = new Budget("b", "global", null, period, 1m, true);

        // 2026-11-23 at 20:00 UTC is already Tuesday 24 November, 03:00, in Hanoi.
        var (from, to) = budget.Window(new DateTimeOffset(2026, 11, 23, 20, 0, 0, TimeSpan.Zero), zone);

        Assert.Equal(DateTimeOffset.Parse(start, System.Globalization.CultureInfo.InvariantCulture), from);
        Assert.Equal(DateTimeOffset.Parse(reset, System.Globalization.CultureInfo.InvariantCulture), to);
    }
}
