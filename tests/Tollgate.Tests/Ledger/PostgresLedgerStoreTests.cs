using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using Tollgate.Analytics;
using Tollgate.Ledger;
using Tollgate.Ledger.Postgres;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Ledger;

/// <summary>
/// The ledger in a real PostgreSQL (a throw-away cluster): records round-trip to the last decimal with every field,
/// a replayed batch is not written twice, replicas migrating at once apply each migration once, and two gateways on
/// one database report the same totals.
/// </summary>
[Collection("postgres")]
public sealed class PostgresLedgerStoreTests(PostgresServer postgres)
{
    private static UsageRecord Full(int n) => Records.Ok(
        "gpt-4o-mini",
        DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000 + n),
        new Usage(1200, 1024, 10, 345, 100, Estimated: n % 2 == 0) { CacheWrite1hTokens = 4 },
        new CostBreakdown(0.000000123456789012345678m * n, 0.0000000075m, 0, 79228162514.264337593543950335m, 0.00001m, 0.00061765m + n),
        new Attribution("key_1", "người-dùng-ü", "sess", "cc", "Tóm tắt 👋", "proj", "prod", new Dictionary<string, string> { ["team"] = "Xin chào \"q\"\n", ["empty"] = string.Empty })) with
    {
        Id = "req_" + n,
        TimeToFirstByteMs = 12.25,
        Error = n % 3 == 0 ? "cut" : null,
        CacheSavingsUsd = -0.0000012m,
        ResponseCacheHit = ResponseCacheHit.Semantic,
        ResponseCacheSimilarity = 0.9375,
        ResponseCacheSavedUsd = 0.000123456789m,
        RouteTarget = "mini",
        RouteReason = "rule:short",
        RouteReferenceCostUsd = 0.5m,
        BatchId = n % 2 == 0 ? "batch_1" : null,
        RealtimeCostUsd = n % 2 == 0 ? 2m : null,
        Attempts = 2,
        MaxOutputTokens = 1_024,
        PromptPrefixHash = "0123456789abcdef0123456789abcdef",
        PromptPrefixTokens = 8_000 + n,
        RequestHash = n % 2 == 0 ? "fedcba9876543210fedcba9876543210" : null,
        QuestionHash = n % 3 == 0 ? "0123456789abcdef0123456789abcdef" : null,
        PromptFacts = n % 4 == 0 ? null : new PromptFacts(1_234 + n, PromptShape.Tools | PromptShape.Images, n % 2 == 0 ? null : PromptVector.Of("alias:emb", [0.5f, -0.25f, 0.1f * n])),
        UpstreamRequestId = "req_provider_" + n,
    };

    [Fact]
    public async Task Records_round_trip_exactly_and_a_replayed_batch_is_not_written_twice()
    {
        await using var store = PostgresLedgerStore.Open(await postgres.CreateDatabaseAsync());
        await store.InitializeAsync(CancellationToken.None);
        var records = Enumerable.Range(1, 6).Select(Full).Append(Records.Ok("mystery", DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_100), Usage.None, CostBreakdown.Unknown) with { Id = "req_unknown" }).ToList();
        var withTools = records[0] with { Usage = records[0].Usage with { ToolCalls = new Dictionary<string, int> { ["web_search"] = 2 } } };
        records[0] = withTools;

        await store.AppendAsync(records, CancellationToken.None);
        await store.AppendAsync(records[..3], CancellationToken.None);
        var back = await store.ReadAsync(DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_002), DateTimeOffset.MaxValue, CancellationToken.None).ToListAsync();

        Assert.Equal(records.Skip(1).Select(r => r.Id), back.Select(r => r.Id));
        foreach (var (expected, actual) in records.Skip(1).Zip(back))
        {
            Assert.Equal(expected with { Attribution = Attribution.Empty }, actual with { Attribution = Attribution.Empty });
            Assert.Equal(expected.Attribution.Tags, actual.Attribution.Tags);
            Assert.Equal(expected.Attribution with { Tags = actual.Attribution.Tags }, actual.Attribution);
        }

        var first = Assert.Single(await store.ReadAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, CancellationToken.None).Where(r => r.Id == "req_1").ToListAsync());
        Assert.Equal("web_search=2", BuiltInToolCalls.Format(first.Usage.ToolCalls));
        Assert.Equal(79228162514.264337593543950335m, first.Cost.Output);
    }

    [Fact]
    public async Task Replicas_starting_together_apply_each_migration_once()
    {
        var database = await postgres.CreateDatabaseAsync();
        var stores = Enumerable.Range(0, 4).Select(_ => PostgresLedgerStore.Open(database)).ToList();

        await Task.WhenAll(stores.Select(s => s.InitializeAsync(CancellationToken.None)));

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*), max(version) FROM tollgate_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal((PostgresMigrations.All.Count, PostgresMigrations.All[^1].Version), ((int)reader.GetInt64(0), reader.GetInt32(1)));
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }
    }

    [Fact]
    public async Task Tollgate_migrate_brings_the_configs_database_to_this_versions_schema_and_rollups_rebuild_remakes_its_rollups()
    {
        var database = await postgres.CreateDatabaseAsync();
        var config = Path.Combine(Path.GetTempPath(), $"tollgate-migrate-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(config, $"storage:\n  data_dir: {Path.GetTempPath()}\n  postgres: \"{database}\"\nmodels:\n  - {{ alias: m, provider: mock, model: mock-gpt }}\n");
        try
        {
            var exit = await Tollgate.Cli.TollgateCli.Build().Parse(["migrate", "--config", config]).InvokeAsync();

            Assert.Equal(0, exit);
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT max(version) FROM tollgate_migrations", connection);
            Assert.Equal(PostgresMigrations.All[^1].Version, (int)(await command.ExecuteScalarAsync())!);

            // Rollups lost (as by a hand edit): `tollgate rollups rebuild` makes them again from the records.
            await using var store = PostgresLedgerStore.Open(database);
            await store.AppendAsync([.. Enumerable.Range(1, 40).Select(Full)], CancellationToken.None);
            await using (var lose = new NpgsqlCommand("DELETE FROM spend_rollups WHERE dimension = 'feature'", connection))
            {
                await lose.ExecuteNonQueryAsync();
            }

            Assert.Equal(0, await Tollgate.Cli.TollgateCli.Build().Parse(["rollups", "rebuild", "--config", config]).InvokeAsync());
            long requests = 0;
            await store.ScanRollupsAsync("feature", 0, long.MaxValue, (_, _, totals) => requests += totals.Requests, CancellationToken.None);
            Assert.Equal(40, requests);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task Two_gateways_on_one_database_write_one_ledger_report_the_same_totals_and_share_outcomes()
    {
        await using var replicas = await postgres.StartReplicasAsync(", price_as: gpt-4o-mini, mock: { reply_tokens: 7 }");
        var (a, b) = (replicas.A, replicas.B);

        foreach (var (gateway, n) in new[] { (a, 30), (b, 20) })
        {
            await Task.WhenAll(Enumerable.Range(0, n).Select(async i =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
                {
                    Content = new StringContent($$"""{"model":"m","messages":[{"role":"user","content":"Xin chào {{i}}"}]}""", Encoding.UTF8, "application/json"),
                };
                request.Headers.Add("X-Feature", gateway == a ? "from-a" : "from-b");
                using var response = await gateway.Client.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }));
        }

        var records = await a.RecordsAsync(50);
        Assert.Equal(50, (await b.RecordsAsync(50)).Count);
        Assert.Equal(50, records.Select(r => r.Id).Distinct().Count());
        var total = records.Sum(r => r.Cost.Total!.Value);
        foreach (var gateway in new[] { a, b })
        {
            using var report = JsonDocument.Parse(await gateway.Client.GetStringAsync("/admin/analytics/spend?group_by=feature&from=1d"));
            var rows = report.RootElement.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("group").GetString()!);
            Assert.Equal((30, 20), (rows["from-a"].GetProperty("requests").GetInt32(), rows["from-b"].GetProperty("requests").GetInt32()));
            Assert.Equal(total, rows.Values.Sum(r => r.GetProperty("cost_usd").GetDecimal()));
        }

        // An outcome reported through A for a request B answered counts in B's unit economics.
        var answeredByB = records.First(r => r.Attribution.Feature == "from-b");
        using (var posted = await a.Client.PostAsync("/v1/outcomes", new StringContent($"{{\"request_id\":\"{answeredByB.Id}\",\"revenue_usd\":1}}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        }

        using var economics = JsonDocument.Parse(await b.Client.GetStringAsync("/admin/analytics/unit-economics?from=1d&to=2099-01-01"));
        var fromB = economics.RootElement.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("group").GetString() == "from-b");
        Assert.Equal((1L, 1m), (fromB.GetProperty("conversions").GetInt64(), fromB.GetProperty("revenue_usd").GetDecimal()));
    }

    [Fact]
    public async Task Two_replicas_send_the_days_digest_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var replicas = await postgres.StartReplicasAsync(sections: $"alerts:\n  webhooks:\n    - {{ url: {receiver.Root}/json }}\n  digest: {{ every: daily, hour: 0 }}\n");
        await receiver.WaitForAsync(1);
        var again = await Task.WhenAll(replicas.A.Service<Tollgate.Analytics.Digest.DigestMonitor>().CheckAsync(CancellationToken.None),
            replicas.B.Service<Tollgate.Analytics.Digest.DigestMonitor>().CheckAsync(CancellationToken.None));
        Assert.All(again, Assert.Empty);
        Assert.Equal("spend_digest", Assert.Single(receiver.Received).Body.GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_database_with_records_but_no_rollups_is_rolled_up_at_start_and_retention_keeps_reports_exact()
    {
        var database = await postgres.CreateDatabaseAsync();
        var hour = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var records = Enumerable.Range(0, 500).Select(i => Full(i) with { Timestamp = hour.AddMinutes(i * 7) }).ToList();
        await using (var first = PostgresLedgerStore.Open(database))
        {
            await first.InitializeAsync(CancellationToken.None);
            await first.AppendAsync(records, CancellationToken.None);
        }

        // As a database written before its rollup tables existed: records, no rollups.
        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            await using var forget = new NpgsqlCommand("DELETE FROM rollup_state; DELETE FROM spend_rollups; DELETE FROM rollup_top; DELETE FROM rollup_tag_names;", connection);
            await forget.ExecuteNonQueryAsync();
        }

        var byModel = new SpendQuery(SpendGrouping.Parse("model")!, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, TimeBucket.Day, TimeZoneInfo.Utc);
        await using var store = PostgresLedgerStore.Open(database);
        var beforeBuild = await SpendReport.BuildAsync(store, byModel, CancellationToken.None);
        Assert.Equal(records.Sum(r => r.Cost.Total!.Value), beforeBuild.Sum(r => r.CostUsd));

        await store.InitializeAsync(CancellationToken.None);
        long rolledUp = 0;
        var scan = await store.ScanRollupsAsync("total", 0, long.MaxValue, (_, _, totals) => rolledUp += totals.Requests, CancellationToken.None);
        Assert.Equal((500L, long.MaxValue), (rolledUp, scan.Mark));
        Assert.Equal(beforeBuild, await SpendReport.BuildAsync(store, byModel, CancellationToken.None));

        // Raw records of the first two days deleted by retention: the days' totals stay, read from the rollups.
        var deleted = await store.DeleteRawBeforeAsync(hour.AddDays(2), 10_000, CancellationToken.None);
        Assert.Equal(records.Count(r => r.Timestamp < hour.AddDays(2)), deleted);
        Assert.Equal(beforeBuild, await SpendReport.BuildAsync(store, byModel, CancellationToken.None));
    }
}
