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
}
