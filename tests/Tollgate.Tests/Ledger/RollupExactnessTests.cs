using CsCheck;
using Tollgate.Analytics;
using Tollgate.Ledger;
using Tollgate.Ledger.Postgres;
using Tollgate.Ledger.Rollups;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Ledger;

/// <summary>
/// Reports read from hourly rollups equal the sum over raw records to the last decimal, whatever the dimension,
/// range, bucket and time zone — with records across hour edges, costs of many decimal places, unpriced records,
/// dimensions past their per-hour caps and records replayed after a crash. Run on each engine: the embedded SQLite
/// ledger (catch-ups interrupted half-way) and PostgreSQL (two replicas appending at once).
/// </summary>
public abstract class RollupExactnessTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset Start = new(2026, 11, 28, 21, 0, 0, TimeSpan.Zero);
    private static readonly string[] Zones = ["UTC", "Asia/Ho_Chi_Minh", "Asia/Kolkata", "America/St_Johns"];
    private static readonly string[] Groupings = [.. SpendGrouping.Names.Where(n => n != "tag:NAME"), "tag:team", "tag:customer", "tag:rare", "cost_center"];

    /// <summary>Small caps, so that the seeded ledger overflows them in many hours.</summary>
    protected static readonly RollupLimits SmallCaps = new(MaxValuesPerHour: 4, MaxTagNamesPerHour: 2);

    private ILedgerStore _store = null!;
    private List<UsageRecord> _written = [];

    private IRollupStore Rollups => (IRollupStore)_store;

    /// <summary>Writes the records into a new ledger of the engine (with <see cref="SmallCaps"/>) and returns it.</summary>
    protected abstract Task<ILedgerStore> SeedAsync(IReadOnlyList<UsageRecord[]> chunks);

    public async Task InitializeAsync()
    {
        var records = Generate(new Random(2026), 6_000);
        _store = await SeedAsync(records.Chunk(700).ToList());
        _written = records;
    }

    public virtual async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task Every_report_from_rollups_equals_the_raw_records_sum_to_the_last_decimal()
    {
        var raw = new RawLedger(_store);
        var queries = Gen.Select(
            Gen.Int[0, Groupings.Length - 1],
            Gen.Int[-90, 3_000],
            Gen.Int[30, 6_000],
            Gen.Int[0, 2],
            Gen.Int[0, Zones.Length - 1],
            Gen.Bool)
        .Select((grouping, fromMinutes, lengthMinutes, bucket, zone, open) =>
        {
            var from = Start.AddMinutes(fromMinutes).AddSeconds(fromMinutes % 7 * 3.5);
            return new SpendQuery(
                SpendGrouping.Parse(Groupings[grouping])!,
                from,
                open ? DateTimeOffset.MaxValue : from.AddMinutes(lengthMinutes),
                (TimeBucket)bucket,
                TimeZoneInfo.FindSystemTimeZoneById(Zones[zone]));
        });

        await queries.SampleAsync(
            async query =>
            {
                var fromRollups = await SpendReport.BuildAsync(_store, query, CancellationToken.None);
                var fromRaw = await SpendReport.BuildAsync(raw, query, CancellationToken.None);
                var (expected, actual) = (Describe(fromRaw), Describe(fromRollups));
                Assert.True(expected.SequenceEqual(actual),
                    $"raw only: {string.Join("; ", expected.Except(actual))} | rollups only: {string.Join("; ", actual.Except(expected))}");
            },
            iter: 400,
            threads: 1,
            print: q => $"{q.Grouping.Name} {q.From:O}..{q.To:O} {q.Bucket} {q.Zone.Id}");
    }

    [Fact]
    public async Task The_whole_ledger_by_every_grouping_equals_the_records_written_and_a_rebuild_changes_nothing()
    {
        var expected = _written.Sum(r => r.Cost.Total ?? 0);
        foreach (var name in Groupings)
        {
            var rows = await SpendReport.BuildAsync(_store, new SpendQuery(SpendGrouping.Parse(name)!, DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue, TimeBucket.None, TimeZoneInfo.Utc), CancellationToken.None);
            Assert.Equal(expected, rows.Sum(r => r.CostUsd));
            Assert.Equal(_written.Count, rows.Sum(r => r.Requests));
        }

        // The reports above did read rollups: every record is rolled up; capped dimensions overflowed in some hours, the
        // server's own never did.
        var hours = (RollupDimensions.HourOf(Start) - 1, RollupDimensions.HourOf(Start) + 80);
        long modelRequests = 0;
        var userRows = new List<long>();
        var models = await Rollups.ScanRollupsAsync("model", hours.Item1, hours.Item2, (_, _, totals) => modelRequests += totals.Requests, CancellationToken.None);
        var users = await Rollups.ScanRollupsAsync("user", hours.Item1, hours.Item2, (hour, _, _) => userRows.Add(hour), CancellationToken.None);
        Assert.Equal(_written.Count, modelRequests);
        Assert.Empty(models.IncompleteHours);
        Assert.NotEmpty(users.IncompleteHours);
        Assert.True(userRows.GroupBy(h => h).All(g => g.Count() <= 4));
        Assert.DoesNotContain(userRows, users.IncompleteHours.Contains);

        var query = new SpendQuery(SpendGrouping.Parse("feature")!, Start, DateTimeOffset.MaxValue, TimeBucket.Hour, TimeZoneInfo.Utc);
        var before = Describe(await SpendReport.BuildAsync(_store, query, CancellationToken.None));
        await Rollups.RebuildRollupsAsync(CancellationToken.None);
        Assert.Equal(before, Describe(await SpendReport.BuildAsync(_store, query, CancellationToken.None)));
    }

    [Fact]
    public async Task Top_requests_forecast_series_and_budget_reloads_from_rollups_equal_their_raw_answers()
    {
        var raw = new RawLedger(_store);
        var random = new Random(11);
        for (var i = 0; i < 40; i++)
        {
            var from = Start.AddMinutes(random.Next(-60, 3_000)).AddSeconds(random.Next(0, 60));
            var to = i % 5 == 0 ? DateTimeOffset.MaxValue : from.AddMinutes(random.Next(30, 4_000));
            var limit = random.Next(1, 21);
            var fromRollups = await TopRequests.FindAsync(_store, from, to, limit, CancellationToken.None);
            var fromRaw = await TopRequests.FindAsync(raw, from, to, limit, CancellationToken.None);
            Assert.Equal(fromRaw.Select(r => r.Cost.Total), fromRollups.Select(r => r.Cost.Total));

            var zone = TimeZoneInfo.FindSystemTimeZoneById(Zones[i % Zones.Length]);
            var scope = new Tollgate.Policy.Budgets.Budget("b", i % 3 == 0 ? "global" : i % 3 == 1 ? "feature" : "tag:team", i % 3 == 1 ? "chat" : "blue", Tollgate.Policy.Budgets.BudgetPeriod.Monthly, 1, true);
            Assert.Equal(
                await DailyAsync(raw, scope, from, to, zone),
                await DailyAsync(_store, scope, from, to, zone));
        }

        var clock = new ManualTimeProvider(Start.AddDays(3));
        var guard = new Tollgate.Policy.Budgets.BudgetGuard([], TimeZoneInfo.Utc, clock);
        foreach (var (scope, value) in new[] { ("global", (string?)null), ("feature", "tóm tắt"), ("user", "người-dùng-7"), ("cost_center", "growth"), ("tag:customer", "c3"), ("key", "key_2") })
        {
            var budget = new Tollgate.Policy.Budgets.Budget(scope, scope, value, Tollgate.Policy.Budgets.BudgetPeriod.Total, 1_000, true);
            await guard.UpsertAsync(budget, _store, CancellationToken.None);
            var spent = guard.Snapshot().Single(b => b.Budget.Name == scope).Spent;
            Assert.Equal(_written.Where(r => budget.Applies(r.Attribution)).Sum(r => r.Cost.Total ?? 0), spent);
        }
    }

    /// <summary>A cost series as the forecast sees it: added up per local day.</summary>
    private static async Task<List<string>> DailyAsync(ILedgerStore store, Tollgate.Policy.Budgets.Budget scope, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone) =>
        [.. (await Tollgate.Analytics.Forecasting.CostSeries.ReadAsync(store, scope, from, to, zone, CancellationToken.None))
            .GroupBy(p => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(p.At, zone).DateTime))
            .OrderBy(g => g.Key)
            .Select(g => $"{g.Key}: {Value(g.Sum(p => p.Cost))}")];

    private static List<string> Describe(IReadOnlyList<SpendRow> rows) =>
        [.. rows.Select(r => $"{r.Period}|{r.Group}|{r.Requests}|{r.InputTokens}|{r.CachedInputTokens}|{r.CacheWriteTokens}|{r.OutputTokens}|{r.ReasoningTokens}|{Value(r.CostUsd)}|{r.UnpricedRequests}|{r.EstimatedRequests}|{Value(r.CacheSavingsUsd)}|{r.ResponseCacheHits}|{Value(r.ResponseCacheSavedUsd)}|{Value(r.ResponseCacheSpentUsd)}|{Value(r.RoutingSavedUsd)}")
            .Order(StringComparer.Ordinal)];

    /// <summary>A decimal's value, whatever its scale (0.20 and 0.2 are the same sum).</summary>
    private static string Value(decimal value) => (value / 1.0000000000000000000000000000m).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static List<UsageRecord> Generate(Random random, int count)
    {
        string? Pick(string[] values) => random.Next(8) == 0 ? null : values[random.Next(values.Length)];
        var users = Enumerable.Range(0, 40).Select(i => $"người-dùng-{i}").ToArray();
        string[] features = ["chat", "search", "summarise", "tóm tắt", "embed", "agent", "rerank"];
        string[] models = ["gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash"];
        var records = new List<UsageRecord>();
        for (var i = 0; i < count; i++)
        {
            // A third of the records sit within a second of an hour's edge.
            var hour = Start.AddHours(random.Next(0, 72));
            var at = random.Next(3) == 0 ? hour.AddMilliseconds(random.Next(-1_000, 1_000)) : hour.AddMilliseconds(random.Next(0, 3_600_000));
            var tags = new Dictionary<string, string>();
            if (random.Next(2) == 0)
            {
                tags["team"] = random.Next(2) == 0 ? "blue" : "red";
            }

            if (random.Next(3) == 0)
            {
                tags["customer"] = "c" + random.Next(12);
            }

            if (random.Next(20) == 0)
            {
                tags["rare"] = "x";
            }

            if (random.Next(8) == 0)
            {
                // A call the response cache made for itself (an embedding or a verification): its cost is also shown apart.
                tags[ResponseCacheWork.Tag] = random.Next(2) == 0 ? ResponseCacheWork.Embedding : ResponseCacheWork.Verification;
            }

            var input = random.Next(1, 50_000);
            var output = random.Next(0, 4_000);
            var priced = random.Next(15) != 0;
            var cost = new CostBreakdown(Money(random), Money(random), Money(random), Money(random), 0, null);
            cost = priced ? cost with { Total = cost.Input + cost.CachedInput + cost.CacheWrite + cost.Output } : cost;
            var model = models[random.Next(models.Length)];
            var attribution = new Attribution("key_" + random.Next(6), Pick(users), "s" + random.Next(500), Pick(["growth", "support", "platform"]), Pick(features), Pick(["atlas", "zephyr"]), Pick(["prod", "dev"]), tags);
            if (random.Next(10) == 0)
            {
                // A response-cache hit: no usage, no cost, and what it saved (unknown for an unpriced model).
                records.Add(Records.Ok(model, at, Usage.None, CostBreakdown.Flat(0), attribution) with
                {
                    ResponseCacheHit = ResponseCacheHit.Exact, ResponseCacheSavedUsd = priced ? Money(random) : null, Attempts = 0,
                });
                continue;
            }

            records.Add(Records.Ok(model, at, new Usage(input, input / 4, input / 10, output, output / 3, random.Next(9) == 0) { CacheWrite1hTokens = input / 20 }, cost, attribution,
                random.Next(12) == 0 ? RecordStatus.UpstreamError : RecordStatus.Ok) with
                {
                    CacheSavingsUsd = priced ? Money(random) - 0.0001m : null,

                    // A routed request: what it would have cost on the router's reference target (unknown at times).
                    RouteTarget = random.Next(5) == 0 ? "cheap" : null,
                    RouteReferenceCostUsd = random.Next(5) == 0 && random.Next(6) != 0 ? Money(random) : null,
                });
        }

        return [.. records.OrderBy(r => r.Id, StringComparer.Ordinal)];
    }

    /// <summary>Dollars with up to 18 decimal places.</summary>
    private static decimal Money(Random random) => Math.Round((decimal)random.NextDouble() / random.Next(1, 1000), random.Next(4, 19));
}

/// <summary>The embedded ledger: catch-ups every other chunk, one cut off half-way, and a replay.</summary>
public sealed class SqliteRollupExactnessTests : RollupExactnessTests
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tollgate-rollups-").FullName;

    protected override async Task<ILedgerStore> SeedAsync(IReadOnlyList<UsageRecord[]> chunks)
    {
        var store = new SqliteLedgerStore(Path.Combine(_directory, "ledger.db"), SmallCaps);
        await store.InitializeAsync(CancellationToken.None);
        for (var i = 0; i < chunks.Count; i++)
        {
            await store.AppendAsync(chunks[i], CancellationToken.None);
            if (i % 2 == 0)
            {
                await store.RollUpAsync(1_000, CancellationToken.None);
            }

            if (i == 3)
            {
                // A catch-up cut off half-way (as by a kill): its transaction rolls back and the mark stays.
                using var cut = new CancellationTokenSource();
                var rolling = store.RollUpAsync(50_000, cut.Token);
                cut.Cancel();
                try
                {
                    await rolling;
                }
                catch (OperationCanceledException)
                {
                    // Cut off: nothing of it stays.
                }

                // The journal's replay after a crash writes records the store may already hold: they are not inserted twice.
                await store.AppendAsync([.. chunks[i - 1], .. chunks[i]], CancellationToken.None);
            }
        }

        await store.RollUpAsync(2_500, CancellationToken.None);
        return store;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>
/// The shared ledger: two replicas' stores append their chunks at the same moment, in small batches, and one replays
/// chunks the other already wrote (as after a crash) — every append rolls up its own records in its transaction.
/// </summary>
[Collection("postgres")]
public sealed class PostgresRollupExactnessTests(PostgresServer postgres) : RollupExactnessTests
{
    private PostgresLedgerStore? _other;

    protected override async Task<ILedgerStore> SeedAsync(IReadOnlyList<UsageRecord[]> chunks)
    {
        var database = await postgres.CreateDatabaseAsync();
        var a = PostgresLedgerStore.Open(database, SmallCaps);
        _other = PostgresLedgerStore.Open(database, SmallCaps);
        await Task.WhenAll(a.InitializeAsync(CancellationToken.None), _other.InitializeAsync(CancellationToken.None));
        async Task WriteAsync(PostgresLedgerStore store, IEnumerable<UsageRecord[]> mine)
        {
            foreach (var chunk in mine)
            {
                foreach (var part in chunk.Chunk(90))
                {
                    await store.AppendAsync(part, CancellationToken.None);
                }
            }
        }

        await Task.WhenAll(
            WriteAsync(a, chunks.Where((_, i) => i % 2 == 0)),
            WriteAsync(_other, chunks.Where((_, i) => i % 2 == 1)),
            WriteAsync(_other, chunks.Take(3)));
        return a;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_other is not null)
        {
            await _other.DisposeAsync();
        }
    }
}
