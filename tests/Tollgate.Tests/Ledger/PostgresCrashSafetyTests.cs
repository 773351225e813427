using System.Collections.Concurrent;
using Npgsql;
using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Tollgate.Tests.Ledger;

/// <summary>
/// Two gateway processes on one PostgreSQL, one of them killed with SIGKILL twice while both serve: every response a
/// client received complete has exactly one record in the shared ledger once the killed replica is back, and the
/// budget room it held comes back too.
/// </summary>
[Collection("postgres")]
public sealed class PostgresCrashSafetyTests(PostgresServer postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task Kill_9s_of_one_replica_under_load_lose_no_completed_response_and_count_none_twice()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        upstream.RecordRequests = false;
        var database = await postgres.CreateDatabaseAsync();
        var models = $"""
            budgets:
              - {"{"} name: all, scope: global, period: monthly, limit_usd: 1000, hard: true {"}"}
            models:
              - alias: gpt-4o-mini
                provider: openai
                model: gpt-4o-mini
                base_url: {upstream.BaseUrl}
                api_key: sk-upstream-secret
            """;
        await using var a = await GatewayProcess.StartAsync(models, database);
        await using var b = await GatewayProcess.StartAsync(models, database);
        using var httpA = CrashSafetyTests.Client(a);
        using var httpB = CrashSafetyTests.Client(b);
        var completed = new ConcurrentBag<string>();
        var started = 0;
        const int Total = 2000;

        var clients = Enumerable.Range(0, 40).Select(async client =>
        {
            while (Interlocked.Increment(ref started) <= Total)
            {
                var stream = (started & 1) == 0;
                while (true)
                {
                    var id = await CrashSafetyTests.TrySendAsync(client % 2 == 0 ? httpA : httpB, stream);
                    if (id is not null)
                    {
                        completed.Add(id);
                        break;
                    }

                    await Task.Delay(20);
                }
            }
        }).ToList();

        foreach (var killAt in new[] { 600, 1300 })
        {
            while (completed.Count < killAt)
            {
                await Task.Delay(5);
            }

            await a.KillAsync();
            await a.RestartAsync();
        }

        await Task.WhenAll(clients);
        foreach (var gateway in new[] { a, b })
        {
            gateway.Terminate();
            await gateway.WaitForExitAsync(CancellationToken.None);
        }

        var ids = new List<string>();
        decimal leased;
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using (var command = new NpgsqlCommand("SELECT id FROM usage_records", connection))
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    ids.Add(reader.GetString(0));
                }
            }

            await using var room = new NpgsqlCommand("SELECT COALESCE(SUM(leased), 0) FROM budget_periods", connection);
            leased = (decimal)(await room.ExecuteScalarAsync())!;
        }

        output.WriteLine($"{completed.Count} completed, {ids.Count} records, {leased} still leased");
        Assert.Equal(Total, completed.Count);
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        var recorded = ids.ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain(completed, id => !recorded.Contains(id));
        Assert.Equal(0m, leased);
    }
}
