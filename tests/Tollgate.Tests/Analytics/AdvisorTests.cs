using System.Security.Cryptography;
using System.Text;
using Tollgate.Analytics.Advice;
using Tollgate.Analytics.UnitEconomics;
using Tollgate.Ledger;
using Tollgate.Ledger.Sqlite;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

/// <summary>
/// The advisor on a generated 30-day ledger: every planted waste — a repeated 8,000-token system prompt sent uncached,
/// a pipeline granted 1,024 output tokens that uses ~30, a nightly job, a duplicate-heavy FAQ, a feature that loses
/// money, a feature on a model its vendor now sells a third cheaper in the same line — is found and worth what the hand
/// computation says (within 1%), ranked; a clean ledger gets no advice.
/// </summary>
public sealed class AdvisorTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly PriceCatalog Catalog = new(PriceCatalogReader.BuiltInPrices());
    private readonly string _directory = Directory.CreateTempSubdirectory("tollgate-advice-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Every_planted_waste_is_found_worth_its_hand_computed_saving_and_ranked()
    {
        var records = Clean(new Random(7));
        for (var day = 0; day < 30; day++)
        {
            var date = Start.AddDays(day);
            for (var i = 0; i < 100; i++)
            {
                // An 8,000-token system prompt on Claude, never cached, every 3 minutes from 09:00.
                records.Add(Record("support", "claude-sonnet-4-5", date.AddHours(9).AddMinutes(3 * i), 8_200, 150, maxTokens: 400, prefix: ("a1b2c3d4e5f60718a1b2c3d4e5f60718", 8_000)));

                // A pipeline granted 1,024 output tokens that uses 25–35.
                records.Add(Record("tagging", "gpt-4o-mini", date.AddHours(10).AddMinutes(2 * i), 400, 25 + (i % 11), maxTokens: 1_024));

                // An FAQ whose 40 questions come back all month.
                records.Add(Record("faq", "gpt-4o-mini", date.AddHours(12).AddMinutes(4 * i), 500, 200, requestHash: Hash("faq question " + (((day * 100) + i) % 40))));
            }

            for (var i = 0; i < 30; i++)
            {
                // A daytime re-indexing job its caller tags as background work.
                records.Add(Record("reindex", "gpt-4o-mini", date.AddHours(15).AddMinutes(i), 3_000, 100, tags: new() { ["latency"] = "background" }));
            }

            for (var i = 0; i < 20; i++)
            {
                // Drafting on an Opus model of an older generation, at three times the newer one's price.
                records.Add(Record("drafting", "claude-opus-4-1", date.AddHours(14).AddMinutes(10 * i), 1_000, 500, stream: true));
            }

            for (var i = 0; i < 200; i++)
            {
                // A nightly job: 01:00 to 02:40, never streamed.
                records.Add(Record("nightly-summaries", "gpt-4o-mini", date.AddHours(1).AddSeconds(30 * i), 2_000, 300));
            }
        }

        var advice = await AdviseAsync(records, [new Outcome("o1", Start.AddDays(3), null, null, "faq", 1, 0.10m, "key_1")]);

        var expected = new (string Kind, string Subject, decimal Monthly)[]
        {
            // 30 days × (99 reads × 8,000 × ($3 − $0.30) − 1 write × 8,000 × ($3.75 − $3)) per million.
            (AdviceKinds.PromptCaching, "prefix a1b2c3d4 on claude-sonnet-4-5 (feature support)", 30 * ((99 * 8_000 * 2.7m) - (8_000 * 0.75m)) / 1_000_000m),
            // 600 requests × (1,000 × ($15 − $5) + 500 × ($75 − $25)) per million: Opus 4.5 for Opus 4.1.
            (AdviceKinds.ModelMove, "feature drafting on claude-opus-4-1", 600 * ((1_000 * 10m) + (500 * 50m)) / 1_000_000m),
            // 6,000 requests × (2,000 × $0.15 + 300 × $0.60) per million, half off.
            (AdviceKinds.Batch, "feature nightly-summaries", 6_000 * ((2_000 * 0.15m) + (300 * 0.6m)) / 1_000_000m / 2),
            // 2,960 repeats × (500 × $0.15 + 200 × $0.60) per million.
            (AdviceKinds.Duplicates, "feature faq", 2_960 * ((500 * 0.15m) + (200 * 0.6m)) / 1_000_000m),
            // 3,000 requests' cost less $0.10 of revenue.
            (AdviceKinds.NegativeMargin, "feature faq", (3_000 * ((500 * 0.15m) + (200 * 0.6m)) / 1_000_000m) - 0.10m),
            // 900 requests × (3,000 × $0.15 + 100 × $0.60) per million, half off.
            (AdviceKinds.Batch, "feature reindex", 900 * ((3_000 * 0.15m) + (100 * 0.6m)) / 1_000_000m / 2),
            // 3,000 requests × (1,024 − 35) output tokens × $0.60 per million, held and never produced.
            (AdviceKinds.MaxTokens, "feature tagging on gpt-4o-mini", 3_000 * (1_024 - 35) * 0.6m / 1_000_000m),
        };
        Assert.Equal(expected.Select(e => (e.Kind, e.Subject)), advice.Take(expected.Length).Select(a => (a.Kind, a.Subject)));
        foreach (var ((_, _, monthly), found) in expected.Zip(advice))
        {
            Assert.InRange(found.MonthlyUsd, monthly * 0.99m, monthly * 1.01m);
        }

        Assert.Equal(35L, advice.Single(a => a.Kind == AdviceKinds.MaxTokens).Evidence["suggested_cap"]);
        Assert.Contains("tagged latency=background", advice.Single(a => a.Subject == "feature reindex").Finding, StringComparison.Ordinal);
        var move = advice.Single(a => a.Kind == AdviceKinds.ModelMove);
        Assert.Equal(("claude-opus-4-5", "unverified"), (move.Evidence["to_model"], move.Evidence["quality"]));
        Assert.Contains("quality unverified", move.Action, StringComparison.Ordinal);

        // And where the money concentrates: the Claude feature, 95% of the cost on 17% of the requests.
        Assert.All(advice.Skip(expected.Length), a => Assert.Equal(AdviceKinds.Concentration, a.Kind));
        Assert.Contains(advice, a => a.Subject == "feature support");
    }

    [Fact]
    public async Task A_clean_ledger_gets_no_advice()
    {
        Assert.Empty(await AdviseAsync(Clean(new Random(11)), []));
    }

    /// <summary>Two daytime features on one model: varied prompts, limits near what they use, short prefixes, no repeats.</summary>
    private static List<UsageRecord> Clean(Random random)
    {
        var records = new List<UsageRecord>();
        for (var day = 0; day < 30; day++)
        {
            foreach (var (feature, limit) in new[] { ("chat", 1_000), ("search", 700) })
            {
                for (var i = 0; i < 40; i++)
                {
                    var at = Start.AddDays(day).AddHours(8).AddMinutes(random.Next(0, 12 * 60));
                    records.Add(Record(feature, "gpt-4o-mini", at, random.Next(300, 1_500), random.Next(100, limit - 100), maxTokens: limit,
                        prefix: (Hash($"{feature} system {random.Next(3)}"), 200), stream: random.Next(2) == 0));
                }
            }
        }

        return records;
    }

    [Fact]
    public async Task A_gpu_paid_by_the_hour_and_mostly_idle_is_found_with_what_its_idle_hours_cost()
    {
        var config = Tollgate.Configuration.ConfigLoader.Parse(
            "models:\n  - { alias: local, provider: vllm, model: llama3.1:8b, base_url: http://127.0.0.1:9/v1, price: { per_hour: 0.72 } }\n", "test", _ => null);
        var deployment = config.Deployments.Single().Name;
        var records = Clean(new Random(5));
        for (var day = 0; day < 30; day++)
        {
            // Ten 6-second requests one after another from 10:00, and two overlapping at noon (10 s and 4 s: 10 s busy).
            var at = Start.AddDays(day);
            var requests = Enumerable.Range(0, 10).Select(i => (At: at.AddHours(10).AddMinutes(i), Ms: 6_000.0))
                .Append((At: at.AddHours(12), Ms: 10_000.0)).Append((At: at.AddHours(12), Ms: 4_000.0));
            records.AddRange(requests.Select(r => Record("homelab", "llama3.1:8b", r.At, 500, 200) with
            {
                Deployment = deployment, LatencyMs = r.Ms, Cost = CostBreakdown.Flat(0.72m * (decimal)r.Ms / 3_600_000m),
            }));
        }

        var advice = await AdviseAsync(records, [], config.Deployments);

        // Paid from the first request (day 0, 10:00) to the end: 710 h at $0.72; busy 30 × 70 s.
        var idle = Assert.Single(advice, a => a.Kind == AdviceKinds.IdleGpu);
        Assert.Equal(("deployment " + deployment, AdviceKinds.Idle), (idle.Subject, idle.Worth));
        Assert.Equal((710m, 0.583m, 360L), ((decimal)idle.Evidence["paid_hours"], (decimal)idle.Evidence["busy_hours"], (long)idle.Evidence["requests"]));
        var expected = (710m - (30 * 70m / 3_600m)) * 0.72m;
        Assert.InRange(idle.MonthlyUsd, expected * 0.999m, expected * 1.001m);
        Assert.Equal(AdviceKinds.IdleGpu, advice[0].Kind);
    }

    [Fact]
    public async Task Background_work_sent_in_a_providers_peak_hours_is_found_with_what_off_peak_would_have_saved()
    {
        // October 2026 on deepseek-v4-flash (peak 01:00–04:00 and 06:00–10:00 UTC on weekdays, twice the off-peak rate):
        // a nightly summary job at 02:30 every day, five requests of 10,000 prompt and 2,000 output tokens, tagged
        // background; and a chat feature at noon, off-peak, which nothing could save.
        var records = Clean(new Random(3));
        var peakRequests = 0;
        var expected = 0m;
        for (var day = 0; day < 30; day++)
        {
            for (var i = 0; i < 5; i++)
            {
                foreach (var (feature, at) in new[] { ("summaries", Start.AddDays(day).AddHours(2.5).AddMinutes(i)), ("chat", Start.AddDays(day).AddHours(12).AddMinutes(i)) })
                {
                    var price = Catalog.Find("deepseek-v4-flash", DateOnly.FromDateTime(at.UtcDateTime))!.At(at);
                    var cost = CostCalculator.Price(new Usage(10_000, 0, 0, 2_000, 0), price);
                    records.Add(Record(feature, "deepseek-v4-flash", at, 10_000, 2_000, tags: new() { ["latency"] = "background" }) with { Cost = cost });
                    if (feature == "summaries" && at.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
                    {
                        peakRequests++;
                        expected += cost.Total!.Value / 2; // off-peak is half of peak
                    }
                }
            }
        }

        var advice = await AdviseAsync(records, []);

        var offPeak = Assert.Single(advice, a => a.Kind == AdviceKinds.OffPeak);
        Assert.Equal("feature summaries on deepseek-v4-flash", offPeak.Subject);
        Assert.Equal((long)peakRequests, (long)offPeak.Evidence["requests_at_peak"]);
        Assert.Equal(110, peakRequests); // 22 weekdays in October 2026
        Assert.InRange(offPeak.MonthlyUsd, expected * 0.99m, expected * 1.01m);
        Assert.Contains("tagged latency=background", offPeak.Finding, StringComparison.Ordinal);
    }

    private async Task<IReadOnlyList<Advice>> AdviseAsync(List<UsageRecord> records, IReadOnlyList<Outcome> outcomes, IEnumerable<Tollgate.Configuration.DeploymentConfig>? deployments = null)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".db");
        await using var ledger = new SqliteLedgerStore(path);
        await ledger.InitializeAsync(CancellationToken.None);
        await ledger.AppendAsync([.. records.OrderBy(r => r.Timestamp)], CancellationToken.None);
        var outcomeStore = new SqliteOutcomeStore(path);
        await outcomeStore.InitializeAsync(CancellationToken.None);
        foreach (var outcome in outcomes)
        {
            await outcomeStore.AddAsync(outcome, CancellationToken.None);
        }

        return await Advisor.AdviseAsync(ledger, outcomeStore, new AdvicePrices(Catalog, deployments ?? []), TimeZoneInfo.Utc, Start, Start.AddDays(30), Start.AddDays(30), CancellationToken.None);
    }

    private static UsageRecord Record(
        string feature, string model, DateTimeOffset at, long input, long output, long? maxTokens = null, (string Hash, long Tokens)? prefix = null,
        string? requestHash = null, bool stream = false, Dictionary<string, string>? tags = null)
    {
        var price = Catalog.Find(model, DateOnly.FromDateTime(at.UtcDateTime)) ?? new TokenPrice { Model = model, EffectiveFrom = default, InputPerMillion = 0, OutputPerMillion = 0 };
        var cost = new CostBreakdown(input * price.InputPerMillion / 1_000_000m, 0, 0, output * price.OutputPerMillion / 1_000_000m, 0, null);
        return Records.Ok(model, at, new Usage(input, 0, 0, output, 0), cost with { Total = cost.Input + cost.Output },
            new Attribution("key_1", null, null, null, feature, null, null, tags ?? [])) with
        {
            Stream = stream,
            MaxOutputTokens = maxTokens,
            PromptPrefixHash = prefix?.Hash,
            PromptPrefixTokens = prefix?.Tokens,
            RequestHash = requestHash ?? Guid.NewGuid().ToString("N"),
        };
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))[..16]);
}

/// <summary>Through the gateway: records get the fingerprints the advisor reads, and <c>/admin/analytics/advice</c> answers from them.</summary>
public sealed class AdviceApiTests
{
    [Fact]
    public async Task Requests_with_a_long_repeated_system_prompt_and_repeated_bodies_are_advised_on_through_the_api()
    {
        await using var upstream = await Tollgate.FakeProviders.FakeOpenAiUpstream.StartAsync();
        upstream.Usage = new Tollgate.FakeProviders.FakeUsage(2_000, 20);
        await using var gateway = await TestGateway.StartAsync("models:\n" + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream.BaseUrl));
        var system = string.Join(' ', Enumerable.Range(0, 1_500).Select(i => $"rule{i % 97}"));
        async Task SendAsync(string feature, string question)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(new
                {
                    model = "gpt-4o-mini",
                    max_tokens = 300,
                    messages = new object[] { new { role = "system", content = system }, new { role = "user", content = question } },
                }), Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Feature", feature);
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        for (var i = 0; i < 20; i++)
        {
            await SendAsync("support", $"Question {i}?");
        }

        for (var i = 0; i < 12; i++)
        {
            await SendAsync("faq", "How do I reset my password?");
        }

        // The same question written twelve ways: case, punctuation, filler words.
        for (var i = 0; i < 12; i++)
        {
            await SendAsync("hoi-dap", (i % 2 == 0 ? "Cho hỏi giờ mở cửa ạ" : "giờ mở cửa") + new string('?', 1 + (i / 2)));
        }

        var records = await gateway.RecordsAsync(44);
        Assert.All(records, r => Assert.Equal((300L, 32), (r.MaxOutputTokens!.Value, r.RequestHash!.Length)));
        Assert.Single(records.Select(r => r.PromptPrefixHash).Distinct());
        Assert.InRange(records[0].PromptPrefixTokens!.Value, 1_024, 4_000);
        Assert.Equal(33, records.Select(r => r.RequestHash).Distinct().Count());
        Assert.Equal((20, 1, 1), (
            records.Where(r => r.Attribution.Feature == "support").Select(r => r.QuestionHash).Distinct().Count(),
            records.Where(r => r.Attribution.Feature == "faq").Select(r => r.QuestionHash).Distinct().Count(),
            records.Where(r => r.Attribution.Feature == "hoi-dap").Select(r => r.QuestionHash).Distinct().Count()));

        using var advice = System.Text.Json.JsonDocument.Parse(await gateway.Client.GetStringAsync("/admin/analytics/advice?from=1d"));
        var data = advice.RootElement.GetProperty("data").EnumerateArray().ToList();
        var caching = data.Single(a => a.GetProperty("kind").GetString() == AdviceKinds.PromptCaching);
        Assert.Equal(44, caching.GetProperty("evidence").GetProperty("requests").GetInt64());
        Assert.True(caching.GetProperty("monthly_usd").GetDecimal() > 0);
        var duplicates = data.Single(a => a.GetProperty("kind").GetString() == AdviceKinds.Duplicates);
        Assert.Equal(("feature faq", 11), (duplicates.GetProperty("subject").GetString(), duplicates.GetProperty("evidence").GetProperty("duplicates").GetInt32()));
        var near = data.Single(a => a.GetProperty("kind").GetString() == AdviceKinds.NearDuplicates);
        Assert.Equal(("feature hoi-dap", 11), (near.GetProperty("subject").GetString(), near.GetProperty("evidence").GetProperty("near_duplicates").GetInt32()));
        Assert.Equal(1, data[0].GetProperty("rank").GetInt32());
    }
}
