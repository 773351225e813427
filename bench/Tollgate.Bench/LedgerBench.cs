using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Tollgate.Analytics;
using Tollgate.Configuration;
using Tollgate.Gateway;
using Tollgate.Ledger;
using Tollgate.Ledger.Postgres;
using Tollgate.Ledger.Rollups;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;

namespace Tollgate.Bench;

/// <summary>
/// <c>--ledger N [--db PATH]</c>: how fast reports answer over a large ledger. Generates N records spread over the 30
/// days up to now (12 features, 6 models, 40 keys, 500 users, 20,000 sessions a day, a team tag; costs with ten
/// decimals) into a SQLite ledger (or, with <c>--postgres CONN</c>, that PostgreSQL database) — kept and reused when it
/// has records — rolls them up, then times a 30-day
/// <c>report --by feature</c>, <c>/admin/analytics/spend?group_by=user&amp;interval=day</c> and every API call of the
/// dashboard's first paint made at once, as the page does. Prints a Markdown table for docs/PERFORMANCE.md.
/// </summary>
internal static class LedgerBench
{
    private const string MasterKey = "sk-bench-master";
    private static readonly string[] Features = ["chat", "search", "summarise", "translate", "tag-products", "sentiment", "agent", "rerank", "embed-docs", "tóm tắt", "support-bot", "sql"];
    private static readonly string[] Models = ["gpt-4o-mini", "gpt-4.1", "claude-sonnet-4-5", "claude-haiku-4-5", "gemini-2.5-flash", "deepseek-chat"];

    public static async Task RunAsync(long count, string? path, string? postgres)
    {
        var c = CultureInfo.InvariantCulture;
        path ??= Path.Combine(Path.GetTempPath(), $"tollgate-ledger-{count}.db");
        var now = DateTimeOffset.UtcNow;
        await using (var store = Open(path, postgres))
        {
            await store.InitializeAsync(CancellationToken.None);
            if (!await store.ReadAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, CancellationToken.None).AnyAsync())
            {
                var generation = Stopwatch.StartNew();
                await GenerateAsync(store, count, now);
                Console.Error.WriteLine(string.Create(c, $"generated {count:N0} records in {generation.Elapsed.TotalSeconds:N0} s ({generation.Elapsed.TotalMicroseconds / count:N1} µs a record, rollups included on PostgreSQL)"));
            }

            var rollup = Stopwatch.StartNew();
            long rolled = 0;
            for (int n; (n = await ((IRollupStore)store).RollUpAsync(200_000, CancellationToken.None)) > 0;)
            {
                rolled += n;
            }

            if (rolled > 0)
            {
                Console.Error.WriteLine(string.Create(c, $"rolled up {rolled:N0} records in {rollup.Elapsed.TotalSeconds:N0} s ({rollup.Elapsed.TotalMicroseconds / rolled:N1} µs a record)"));
            }
        }

        var directory = postgres is null ? Path.GetDirectoryName(Path.GetFullPath(path))! : Directory.CreateTempSubdirectory("tollgate-ledger-bench-").FullName;
        var config = ConfigLoader.Parse("models:\n  - { alias: m, provider: mock, model: mock-gpt }\n", "bench", _ => null) with
        {
            Listen = new Uri("http://127.0.0.1:0"),
            BindUrls = null,
            Storage = new StorageConfig(directory, postgres is null ? path : Path.Combine(directory, "ledger.db")) { PostgresConnection = postgres },
            Budgets = [new Policy.Budgets.Budget("monthly-all", "global", null, Policy.Budgets.BudgetPeriod.Monthly, 50_000, false)],
        };
        await using var gateway = GatewayHost.Build(config, MasterKey);
        await gateway.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(gateway.Urls.First()), Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MasterKey);

        await using var reader = Open(path, postgres);
        // As 'tollgate report --by feature --since 30d' reads it.
        SinceParser.TryParseReportStart("30d", DateTimeOffset.UtcNow, out var since);
        var feature = await TimeAsync(() => SpendReport.BuildAsync(reader, new SpendQuery(SpendGrouping.Parse("feature")!, since, DateTimeOffset.MaxValue, TimeBucket.None, TimeZoneInfo.Utc), CancellationToken.None));
        var users = await TimeAsync(() => http.GetStringAsync("/admin/analytics/spend?group_by=user&interval=day&from=30d"));
        string[] firstPaint =
        [
            "spend?from=30d&group_by=model&interval=day", "spend?from=30d&group_by=feature", "spend?from=30d&group_by=cost-center",
            "spend?from=30d&group_by=user", "spend?from=30d&group_by=key", "spend?from=2d&group_by=model&interval=day", "forecast", "budgets",
            "anomalies?from=30d", "top-requests?from=30d&limit=10", "keys",
        ];
        var dashboard = await TimeAsync(() => Task.WhenAll(firstPaint.Select(p => http.GetStringAsync("/ui/api/" + p))));
        if (postgres is not null)
        {
            // Exact: the report from rollups against PostgreSQL's own numeric sums over the raw records of the range.
            var fromRollups = await SpendReport.BuildAsync(reader, new SpendQuery(SpendGrouping.Parse("feature")!, since, DateTimeOffset.MaxValue, TimeBucket.None, TimeZoneInfo.Utc), CancellationToken.None);
            var fromRaw = await RawSumsByFeatureAsync(postgres, since);
            var differing = fromRollups.Count(r => !fromRaw.TryGetValue(r.Group, out var raw) || raw != (r.Requests, r.CostUsd));
            Console.Error.WriteLine(string.Create(c, $"30-day report by feature: {fromRollups.Count} rows, {fromRollups.Sum(r => r.Requests):N0} requests, ${fromRollups.Sum(r => r.CostUsd)}; against SQL sums over raw records: {(differing == 0 && fromRaw.Count == fromRollups.Count ? "equal to the last decimal" : $"{differing} rows differ")}"));
        }

        var size = await SizeAsync(path, postgres);
        Console.WriteLine(string.Create(c, $"| {count:N0} | {size / 1e9:N1} GB | {feature} | {users} | {dashboard} |"));
        await gateway.StopAsync();
    }

    /// <summary>The first (cold) run and the median of three warm ones.</summary>
    private static async Task<string> TimeAsync<T>(Func<Task<T>> action)
    {
        var times = new List<double>();
        for (var i = 0; i < 4; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            await action();
            times.Add(stopwatch.Elapsed.TotalMilliseconds);
        }

        var warm = times.Skip(1).Order().ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{warm[1]:N0} ms (first {times[0]:N0} ms)");
    }

    private static ILedgerStore Open(string path, string? postgres) =>
        postgres is null ? new SqliteLedgerStore(path) : PostgresLedgerStore.Open(postgres);

    private static async Task<Dictionary<string, (long Requests, decimal Cost)>> RawSumsByFeatureAsync(string postgres, DateTimeOffset since)
    {
        await using var connection = new Npgsql.NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT feature, count(*), coalesce(sum(cost_total), 0) FROM usage_records WHERE ts_ms >= $1 GROUP BY feature", connection) { CommandTimeout = 600 };
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = since.ToUnixTimeMilliseconds() });
        var sums = new Dictionary<string, (long, decimal)>(StringComparer.Ordinal);
        await using var rows = await command.ExecuteReaderAsync();
        while (await rows.ReadAsync())
        {
            sums[rows.GetString(0)] = (rows.GetInt64(1), rows.GetDecimal(2));
        }

        return sums;
    }

    /// <summary>The SQLite file's size, or the PostgreSQL database's.</summary>
    private static async Task<long> SizeAsync(string path, string? postgres)
    {
        if (postgres is null)
        {
            return new FileInfo(path).Length;
        }

        await using var connection = new Npgsql.NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT pg_database_size(current_database())", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task GenerateAsync(ILedgerStore store, long count, DateTimeOffset now)
    {
        var random = new Random(42);
        var start = now.AddDays(-30);
        var step = TimeSpan.FromDays(30).Ticks / count;
        var batch = new List<UsageRecord>(10_000);
        for (long i = 0; i < count; i++)
        {
            var at = start.AddTicks(step * i);
            var input = random.Next(20, 6_000);
            var output = random.Next(5, 900);
            var inputCost = decimal.Round(input * 0.15m / 1_000_000 * (1 + (random.Next(0, 1000) / 997m)), 10);
            var outputCost = decimal.Round(output * 0.6m / 1_000_000, 10);
            var model = Models[random.Next(Models.Length)];
            var day = (long)(at - start).TotalDays;
            batch.Add(new UsageRecord
            {
                Id = Guid.CreateVersion7(at).ToString("N"),
                Timestamp = at,
                LatencyMs = random.Next(200, 4_000),
                Attribution = new Attribution(
                    "key_" + random.Next(40).ToString("D2", CultureInfo.InvariantCulture),
                    "user-" + random.Next(500).ToString("D3", CultureInfo.InvariantCulture),
                    $"s{day}-{random.Next(20_000)}",
                    "cc-" + random.Next(6),
                    Features[random.Next(Features.Length)],
                    "project-" + random.Next(4),
                    random.Next(10) == 0 ? "staging" : "prod",
                    new Dictionary<string, string> { ["team"] = "team-" + random.Next(5) }),
                Endpoint = "chat.completions",
                Alias = model,
                Deployment = "provider/" + model,
                Provider = "provider",
                UpstreamModel = model,
                Stream = random.Next(2) == 0,
                Status = random.Next(50) == 0 ? RecordStatus.UpstreamError : RecordStatus.Ok,
                HttpStatus = 200,
                Usage = new Usage(input, input / 5, 0, output, 0),
                Cost = new CostBreakdown(inputCost, 0, 0, outputCost, 0, inputCost + outputCost),
                PriceSource = "bench",
            });
            if (batch.Count == batch.Capacity)
            {
                await store.AppendAsync(batch, CancellationToken.None);
                batch.Clear();
            }
        }

        await store.AppendAsync(batch, CancellationToken.None);
    }
}
