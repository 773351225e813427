using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Tollgate.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Tollgate.Tests.Ledger;

/// <summary>
/// PostgreSQL stopped and started again under load: requests go on (the journal holds their records, a hard budget
/// refuses only what it would need new room for, with a 503, never a 5xx of the gateway's own), and once it is back
/// every answered request has exactly one record.
/// </summary>
[Collection("postgres")]
public sealed class PostgresOutageTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task A_postgres_restart_under_load_loses_no_record_and_fails_hard_budgets_closed()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var gateway = await TestGateway.StartAsync($"""
            storage:
              postgres: "{database}"
            budgets:
              - {"{"} name: all, scope: global, period: monthly, limit_usd: 100, hard: true {"}"}
            models:
              - {"{"} alias: m, provider: mock, model: mock-gpt, price_as: gpt-4o-mini, mock: {"{"} reply_tokens: 5 {"}"} {"}"}
            """);
        var statuses = new List<(TimeSpan At, int Status, string? Code)>();
        var clock = Stopwatch.StartNew();
        var outage = Task.Run(async () =>
        {
            await Task.Delay(1000);
            await postgres.StopServerAsync();
            await Task.Delay(1500);
            await postgres.StartServerAsync();
        });
        var workers = Enumerable.Range(0, 4).Select(async w =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(6))
            {
                using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
                    """{"model":"m","max_tokens":50,"messages":[{"role":"user","content":"Xin chào"}]}""", Encoding.UTF8, "application/json"));
                var body = await response.Content.ReadAsStringAsync();
                var code = (int)response.StatusCode >= 400 ? JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString() : null;
                lock (statuses)
                {
                    statuses.Add((clock.Elapsed, (int)response.StatusCode, code));
                }
            }
        });
        await Task.WhenAll([outage, .. workers]);

        var ok = statuses.Count(s => s.Status == 200);
        var refused = statuses.Where(s => s.Status != 200).GroupBy(s => (s.Status, s.Code)).Select(g => $"{g.Key.Status} {g.Key.Code} x{g.Count()}");
        output.WriteLine($"{statuses.Count} requests: {ok} answered; {string.Join(", ", refused)}");
        Assert.All(statuses.Where(s => s.Status != 200), s => Assert.Equal((503, "budget_store_unavailable"), (s.Status, s.Code)));
        Assert.Contains(statuses, s => s.Status == 200 && s.At > TimeSpan.FromSeconds(4));

        // Every answered request has exactly one record once the writer has caught up.
        var records = await gateway.RecordsAsync(ok);
        Assert.Equal(ok, records.Count);
        Assert.Equal(ok, records.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task Past_max_unwritten_records_requests_are_refused_before_any_provider_call_until_the_ledger_catches_up()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var gateway = await TestGateway.StartAsync($"""
            storage:
              postgres: "{database}"
              max_unwritten_records: 100
            models:
              - {"{"} alias: m, provider: mock, model: mock-gpt, price_as: gpt-4o-mini, mock: {"{"} reply_tokens: 5 {"}"} {"}"}
            """);
        async Task<(int Status, string? Code, string? RetryAfter)> SendAsync()
        {
            using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(
                """{"model":"m","messages":[{"role":"user","content":"Xin chào"}]}""", Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            var code = (int)response.StatusCode >= 400 ? JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString() : null;
            return ((int)response.StatusCode, code, response.Headers.RetryAfter?.ToString());
        }

        Assert.Equal(200, (await SendAsync()).Status);
        await gateway.RecordsAsync(1);
        await postgres.StopServerAsync();
        var during = new System.Collections.Concurrent.ConcurrentBag<(int Status, string? Code, string? RetryAfter)>();
        try
        {
            // Four clients: a request is admitted against the records waiting when it starts.
            await Parallel.ForEachAsync(Enumerable.Range(0, 250), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (_, _) => during.Add(await SendAsync()));
        }
        finally
        {
            await postgres.StartServerAsync();
        }

        var answered = during.Count(r => r.Status == 200);
        output.WriteLine($"while PostgreSQL was down: {answered} answered, {during.Count - answered} refused");
        Assert.All(during.Where(r => r.Status != 200), r => Assert.Equal((503, "ledger_backlog", "5"), r));
        Assert.InRange(answered, 100, 103);

        // Back: the writer catches up, every answered request has one record, and requests are admitted again.
        var records = await gateway.RecordsAsync(1 + answered);
        Assert.Equal(1 + answered, records.Select(r => r.Id).Distinct().Count());
        var after = Stopwatch.StartNew();
        while ((await SendAsync()).Status != 200)
        {
            Assert.True(after.Elapsed < TimeSpan.FromSeconds(30), "still refused 30 s after PostgreSQL came back");
            await Task.Delay(200);
        }

        Assert.Equal(2 + answered, (await gateway.RecordsAsync(2 + answered)).Count);
    }
}
