using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Tollgate.Analytics;
using Tollgate.Configuration;
using Tollgate.Gateway;
using Tollgate.Ledger;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;

namespace Tollgate.Bench;

/// <summary>
/// <c>--ledger N [--db PATH]</c>: how fast reports answer over a large ledger. Generates N records spread over the 30
/// days up to now (12 features, 6 models, 40 keys, 500 users, 20,000 sessions a day, a team tag; costs with ten
/// decimals) into a SQLite ledger — kept and reused when PATH exists — rolls them up, then times a 30-day
/// <c>report --by feature</c>, <c>/admin/analytics/spend?group_by=user&amp;interval=day</c> and every API call of the
/// dashboard's first paint made at once, as the page does. Prints a Markdown table for docs/PERFORMANCE.md.
/// </summary>
internal static class LedgerBench
{
    private const string MasterKey = "sk-bench-master";
    private static readonly string[] Features = ["chat", "search", "summarise", "translate", "tag-products", "sentiment", "agent", "rerank", "embed-docs", "tóm tắt", "support-bot", "sql"];
    private static readonly string[] Models = ["gpt-4o-mini", "gpt-4.1", "claude-sonnet-4-5", "claude-haiku-4-5", "gemini-2.5-flash", "deepseek-chat"];

    public static async Task RunAsync(long count, string? path)
    {
        var c = CultureInfo.InvariantCulture;
        path ??= Path.Combine(Path.GetTempPath(), $"tollgate-ledger-{count}.db");
        var now = DateTimeOffset.UtcNow;
        if (!File.Exists(path))
        {
            var generation = Stopwatch.StartNew();
            await GenerateAsync(path, count, now);
            Console.Error.WriteLine(string.Create(c, $"generated {count:N0} records in {generation.Elapsed.TotalSeconds:N0} s"));
        }

        await using (var store = new SqliteLedgerStore(path))
        {
            await store.InitializeAsync(CancellationToken.None);
            var rollup = Stopwatch.StartNew();
            long rolled = 0;
            for (int n; (n = await store.RollUpAsync(200_000, CancellationToken.None)) > 0;)
            {
                rolled += n;
            }

            if (rolled > 0)
            {
                Console.Error.WriteLine(string.Create(c, $"rolled up {rolled:N0} records in {rollup.Elapsed.TotalSeconds:N0} s ({rollup.Elapsed.TotalMicroseconds / rolled:N1} µs a record)"));
            }
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var config = ConfigLoader.Parse("models:\n  - { alias: m, provider: mock, model: mock-gpt }\n", "bench", _ => null) with
        {
            Listen = new Uri("http://127.0.0.1:0"),
            BindUrls = null,
            Storage = new StorageConfig(directory, path),
            Budgets = [new Policy.Budgets.Budget("monthly-all", "global", null, Policy.Budgets.BudgetPeriod.Monthly, 50_000, false)],
        };
        await using var gateway = GatewayHost.Build(config, MasterKey);
        await gateway.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(gateway.Urls.First()), Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", MasterKey);

        await using var reader = new SqliteLedgerStore(path);
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
        Console.WriteLine(string.Create(c, $"| {count:N0} | {new FileInfo(path).Length / 1e9:N1} GB | {feature} | {users} | {dashboard} |"));
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

    private static async Task GenerateAsync(string path, long count, DateTimeOffset now)
    {
        var random = new Random(42);
        var start = now.AddDays(-30);
        var step = TimeSpan.FromDays(30).Ticks / count;
        await using var store = new SqliteLedgerStore(path);
        await store.InitializeAsync(CancellationToken.None);
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
