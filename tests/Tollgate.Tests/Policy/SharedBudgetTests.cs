using System.Net;
using System.Text;
using Tollgate.FakeProviders;
using Tollgate.Ledger.Postgres;
using Tollgate.Policy.Budgets;
using Tollgate.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Tollgate.Tests.Policy;

/// <summary>
/// Two gateway replicas on one PostgreSQL share a hard budget: each admits only against room it leased, so however
/// the requests split and race, the spend of both stays within the limit, every admitted request has one record, and
/// the room a replica held comes back when it stops or restarts.
/// </summary>
[Collection("postgres")]
public sealed class SharedBudgetTests(PostgresServer postgres, ITestOutputHelper output)
{
    // Every answer bills 5 input and 10 output tokens at $200 per million: $0.003; the worst case held is larger.
    private const decimal PerRequest = 15 * 200m / 1_000_000m;

    private static string Config(string database, Uri upstream) => $"""
        storage:
          postgres: "{database}"
        retries:
          max_retries: 0
        budgets:
          - {"{"} name: shared, scope: global, period: monthly, limit_usd: 1.00, hard: true {"}"}
        models:
        {TestGateway.Model("mini", "gpt-4o-mini", upstream, "    price: { input_per_million: 200, output_per_million: 200 }\n")}
        """;

    [Fact]
    public async Task Four_hundred_concurrent_requests_on_two_replicas_never_spend_past_a_hard_budget()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        upstream.Usage = new FakeUsage(5, 10);
        var database = await postgres.CreateDatabaseAsync();
        var a = await TestGateway.StartAsync(Config(database, upstream.BaseUrl));
        var b = await TestGateway.StartAsync(Config(database, upstream.BaseUrl));
        var room = new PostgresBudgetRoom(Npgsql.NpgsqlDataSource.Create(database), "reader");
        var period = a.Service<BudgetGuard>().Snapshot().Single();
        try
        {
            var statuses = await Task.WhenAll(Enumerable.Range(0, 400).Select(async i =>
            {
                var gateway = i % 2 == 0 ? a : b;
                using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
                    $$"""{"model":"mini","max_tokens":20,"messages":[{"role":"user","content":"Xin chào {{i}}"}]}""", Encoding.UTF8, "application/json"));
                return response.StatusCode;
            }));

            var admitted = statuses.Count(s => s == HttpStatusCode.OK);
            Assert.Equal(400, admitted + statuses.Count(s => s == HttpStatusCode.TooManyRequests));
            var records = await a.RecordsAsync(admitted);
            var spent = records.Sum(r => r.Cost.Total!.Value);
            output.WriteLine($"admitted {admitted} of 400 ({statuses.Count(s => s == HttpStatusCode.TooManyRequests)} refused), spent ${spent} of $1.00");
            Assert.Equal(admitted, records.Count);
            Assert.Equal(admitted * PerRequest, spent);
            Assert.True(spent <= 1.00m, $"spent {spent}");

            await a.Service<BudgetGuard>().FlushAsync(CancellationToken.None);
            await b.Service<BudgetGuard>().FlushAsync(CancellationToken.None);
            var (storeSpent, leased) = await ReadPeriodAsync(room, a);
            Assert.Equal(spent, storeSpent);
            Assert.True(storeSpent + leased <= 1.00m);

            // Once nothing is in flight a replica keeps at most 10% of the limit unspent, so requests one at a time, on
            // either replica, go on being admitted until less than that (plus one worst case) is left.
            Assert.True(leased <= 2 * 0.10m, $"{leased} leased while idle");
            var refusedInARow = 0;
            for (var i = 0; refusedInARow < 2 && i < 400; i++)
            {
                using var response = await (i % 2 == 0 ? a : b).Client.PostAsync("/v1/chat/completions", new StringContent(
                    """{"model":"mini","max_tokens":20,"messages":[{"role":"user","content":"Xin chào"}]}""", Encoding.UTF8, "application/json"));
                refusedInARow = response.StatusCode == HttpStatusCode.OK ? 0 : refusedInARow + 1;
            }

            var final = (await a.RecordsAsync(0)).Sum(r => r.Cost.Total!.Value);
            output.WriteLine($"one at a time afterwards: spent ${final} of $1.00");
            Assert.InRange(final, 1.00m - 0.10m - 0.02m, 1.00m);
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }

        // Stopped replicas give their room back.
        Assert.Equal(0m, (await ReadPeriodAsync(room, period)).Leased);
        await room.DisposeAsync();
    }

    [Fact]
    public async Task A_replica_restarted_after_holding_room_gives_it_back_before_leasing_again()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        upstream.Usage = new FakeUsage(5, 10);
        var database = await postgres.CreateDatabaseAsync();
        var first = await TestGateway.StartAsync(Config(database, upstream.BaseUrl));
        using (var response = await first.Client.PostAsync("/v1/chat/completions", new StringContent(
            """{"model":"mini","max_tokens":20,"messages":[{"role":"user","content":"Xin chào"}]}""", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await using var room = new PostgresBudgetRoom(Npgsql.NpgsqlDataSource.Create(database), "reader");
        var snapshot = first.Service<BudgetGuard>().Snapshot().Single();
        Assert.True((await ReadPeriodAsync(room, snapshot)).Leased > 0, "a slice is leased");

        // A restart on the same data folder is the same replica: its old lease goes back at start.
        await using var second = await first.RestartAsync();
        var (spent, leased) = await ReadPeriodAsync(room, snapshot);
        Assert.Equal((PerRequest, 0m), (spent, leased));
    }

    private static Task<(decimal Spent, decimal Leased)> ReadPeriodAsync(PostgresBudgetRoom room, TestGateway gateway) =>
        ReadPeriodAsync(room, gateway.Service<BudgetGuard>().Snapshot().Single());

    private static Task<(decimal Spent, decimal Leased)> ReadPeriodAsync(PostgresBudgetRoom room, (Budget Budget, decimal Spent, decimal Reserved, DateTimeOffset? ResetsAt) account)
    {
        var (start, _) = account.Budget.Window(DateTimeOffset.UtcNow, TimeZoneInfo.Utc);
        return room.ReadAsync(account.Budget.Name, start, CancellationToken.None);
    }

    [Fact]
    public async Task A_soft_budget_shows_the_spend_of_both_replicas_and_each_alert_is_sent_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        upstream.Usage = new FakeUsage(5, 10);
        var database = await postgres.CreateDatabaseAsync();
        var config = $"""
            storage:
              postgres: "{database}"
            alerts:
              webhooks:
                - {"{"} url: {receiver.Root}/json {"}"}
            budgets:
              - {"{"} name: team, scope: global, period: monthly, limit_usd: 0.06, hard: false {"}"}
            models:
            {TestGateway.Model("mini", "gpt-4o-mini", upstream.BaseUrl, "    price: { input_per_million: 200, output_per_million: 200 }\n")}
            """;
        await using var a = await TestGateway.StartAsync(config);
        await using var b = await TestGateway.StartAsync(config);

        // 24 requests at $0.003, half on each replica: $0.072 in all, past 50%, 80% and 100% of $0.06 — though each
        // replica alone spent only $0.036.
        await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? a : b).Client.PostAsync("/v1/chat/completions", new StringContent(
                $$"""{"model":"mini","max_tokens":20,"messages":[{"role":"user","content":"Xin chào {{i}}"}]}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }));

        var total = 24 * PerRequest;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (new[] { a, b }.Any(g => g.Service<BudgetGuard>().Snapshot().Single().Spent != total))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(5), $"spent seen: {a.Service<BudgetGuard>().Snapshot().Single().Spent} and {b.Service<BudgetGuard>().Snapshot().Single().Spent}, not {total}");
            await Task.Delay(50);
        }

        output.WriteLine($"both replicas show ${total} after {waited.ElapsedMilliseconds} ms");
        await receiver.WaitForAsync(3);
        Assert.Equal([50, 80, 100], receiver.Received.Select(r => r.Body.GetProperty("threshold_percent").GetInt32()).Order());
    }
}
