using System.Text.Json;
using Tollgate.Configuration;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Metering;
using Tollgate.Routing.Simulation;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Routing;

/// <summary>
/// <c>tollgate route simulate</c>'s replay: recorded requests routed again from what the ledger keeps (feature, tokens…),
/// each priced exactly at the chosen target's price; rules that read the prompt are named as not replayed.
/// </summary>
public sealed class RouteSimulationTests
{
    private static async IAsyncEnumerable<UsageRecord> Stream(IEnumerable<UsageRecord> records)
    {
        foreach (var record in records)
        {
            yield return record;
        }

        await Task.CompletedTask;
    }

    [Fact]
    public async Task Recorded_requests_are_routed_again_and_priced_at_the_chosen_target()
    {
        var config = ConfigLoader.Parse("""
            routers:
              bot:
                targets: [mini, big]
                rules:
                  - { name: analysis, feature: analysis, target: big }
                  - { name: short, max_chars: 200, target: mini }
                  - { name: long, min_tokens: 5000, target: big }
                weights: { mini: 1 }
            models:
              - { alias: mini, provider: openai, model: gpt-4o-mini, api_key: k }
              - { alias: big, provider: openai, model: gpt-4o, api_key: k }
            """, "test", _ => null);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var catalog = LocalPriceCatalog.Load(Path.Combine(Path.GetTempPath(), "tollgate-sim-" + Guid.NewGuid().ToString("N")));
        var at = DateTimeOffset.UtcNow.AddHours(-1);
        Attribution Feature(string feature) => new("key_1", "u1", null, null, feature, null, null, new Dictionary<string, string>());
        var onBig = new Usage(1_000, 0, 0, 100, 0);
        UsageRecord[] records =
        [
            .. Enumerable.Range(0, 3).Select(_ => Records.Ok("gpt-4o", at, onBig, CostBreakdown.Flat(0.0035m), Feature("chat")) with { Alias = "big" }),
            Records.Ok("gpt-4o", at, onBig, CostBreakdown.Flat(0.0035m), Feature("analysis")) with { Alias = "big" },
            Records.Ok("gpt-4o", at, new Usage(6_000, 0, 0, 100, 0), CostBreakdown.Flat(0.016m), Feature("chat")) with { Alias = "big" },
            Records.Ok("gpt-4o", at, onBig, CostBreakdown.Flat(0.0035m), Feature("chat")) with { Alias = "elsewhere" },
        ];

        var simulation = new RouteSimulation(config.Routers.Single(), new ConfiguredTargets(config, catalog, today));
        var result = await simulation.RunAsync(Stream(records), new HashSet<string> { "mini", "big", "bot" }, DateTimeOffset.UtcNow, CancellationToken.None);

        var mini = result.Targets.Single(t => t.Target == "mini");
        var big = result.Targets.Single(t => t.Target == "big");
        Assert.Equal(3, mini.Requests);
        Assert.Equal(3 * 0.0035m, mini.RecordedUsd);
        Assert.Equal(3 * ((1_000 * 0.15m / 1_000_000) + (100 * 0.60m / 1_000_000)), mini.SimulatedUsd);
        Assert.Equal(2, big.Requests);
        Assert.Equal(new Dictionary<string, long> { ["rule:analysis"] = 1, ["rule:long"] = 1 }, big.Reasons);
        Assert.Empty(result.SkippedRules);
        Assert.Equal(["short"], result.FactRules);
        Assert.Equal((5L, 0L), (result.Replayed, result.WithFacts));
        Assert.Contains("kept by 0 of the 5 records replayed: on those only, rule short decided", result.Report("bot"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Records_that_kept_their_prompt_facts_replay_the_prompt_rules_and_the_difficulty_strategy()
    {
        await using var upstream = await FakeOpenAiUpstream.StartAsync();
        const string Router = """
            routers:
              bot:
                targets: [mini, big]
                rules:
                  - { name: tools, tools: true, target: big }
                  - { name: refunds, regex: "(?i)refund", target: mini }
                  - { name: tiny, max_chars: 12, target: mini }
                difficulty:
                  embedder: lexical
                  strong: big
                  cheap: mini
                  margin: 0.02
                  simple:
                    - What are your opening hours?
                    - How long does shipping take?
                    - Mấy giờ cửa hàng mở cửa?
                    - Giao hàng mất bao lâu?
                  complex:
                    - Analyse our sales by region, compare them with last year and recommend a pricing strategy step by step.
                    - Phân tích doanh thu theo từng khu vực, so sánh với năm ngoái và đề xuất chiến lược giá từng bước.
                weights: { big: 1 }
            """;
        // The traffic as it ran: everything on the strong model, prompt facts kept with lexical vectors.
        IReadOnlyList<UsageRecord> recorded;
        await using (var gateway = await TestGateway.StartAsync($"""
            storage:
              record_prompt_facts: true
              prompt_facts_embedder: lexical
            models:
            {TestGateway.Model("big", "gpt-4o", upstream.BaseUrl)}
            """))
        {
            string[] questions =
            [
                "When are your opening hours on Sunday?",
                "Cửa hàng mở cửa lúc mấy giờ vậy?",
                "Analyse the regional sales figures, compare with last quarter and recommend next steps.",
                "Phân tích doanh thu từng khu vực quý này, so sánh với quý trước và đề xuất chiến lược.",
                "Hi there!",
            ];
            foreach (var question in questions)
            {
                await AskAsync(gateway, "{\"role\":\"user\",\"content\":" + JsonSerializer.Serialize(question) + "}", "");
            }

            await AskAsync(gateway, "{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Look up the weather please\"}]}",
                ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"weather\",\"parameters\":{}}}]");
            recorded = await gateway.RecordsAsync(6);
        }

        // Kept: characters as a router counts them (system prompt included), the shape, a lexical vector; never text.
        Assert.All(recorded, r => Assert.Equal(("lexical", 1024), (r.PromptFacts!.Vector!.Embedder, r.PromptFacts.Vector.Dimensions)));
        var openingHours = Assert.Single(recorded, r => r.PromptFacts!.Characters == "When are your opening hours on Sunday?".Length);
        var vietnamese = Assert.Single(recorded, r => r.PromptFacts!.Characters == "Cửa hàng mở cửa lúc mấy giờ vậy?".Length);
        var tools = Assert.Single(recorded, r => r.PromptFacts!.Shape == PromptShape.Tools);
        Assert.Equal("Be brief.".Length + "Look up the weather please".Length, tools.PromptFacts!.Characters);
        Assert.Equal(PromptShape.None, openingHours.PromptFacts!.Shape);

        // An older record without facts, and one whose vector is another embedder's.
        var older = openingHours with { Id = "older", PromptFacts = null };
        var otherEmbedder = vietnamese with { Id = "other", PromptFacts = vietnamese.PromptFacts! with { Vector = PromptVector.Of("minilm", new float[384]) } };

        var config = ConfigLoader.Parse(Router + $"""

            models:
            {TestGateway.Model("mini", "gpt-4o-mini", upstream.BaseUrl)}
            {TestGateway.Model("big", "gpt-4o", upstream.BaseUrl)}
            """, "test", _ => null);
        var router = config.Routers.Single();
        var scorer = new Tollgate.Routing.Difficulty.DifficultyScorer(router.Difficulty!, new Tollgate.Optimization.SemanticCaching.LexicalEmbedder(), null);
        var catalog = LocalPriceCatalog.Load(Path.Combine(Path.GetTempPath(), "tollgate-sim-" + Guid.NewGuid().ToString("N")));
        var simulation = new RouteSimulation(router, new ConfiguredTargets(config, catalog, DateOnly.FromDateTime(DateTime.UtcNow)), scorer);
        var result = await simulation.RunAsync(Stream([.. recorded, older, otherEmbedder]), new HashSet<string> { "big" }, DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);

        var mini = result.Targets.Single(t => t.Target == "mini");
        var big = result.Targets.Single(t => t.Target == "big");
        Assert.Equal(2, mini.Reasons.Where(r => r.Key.StartsWith("difficulty:", StringComparison.Ordinal)).Sum(r => r.Value));
        Assert.Equal(1, mini.Reasons["rule:tiny"]);
        Assert.Equal(2, big.Reasons.Where(r => r.Key.StartsWith("difficulty:", StringComparison.Ordinal)).Sum(r => r.Value));
        Assert.Equal(1, big.Reasons["rule:tools"]);
        Assert.Equal(2, big.Reasons["weight:big"]); // the older record and the other embedder's vector: not scored
        Assert.Equal((8L, 7L, 6L), (result.Replayed, result.WithFacts, result.WithVector));
        Assert.Equal(["refunds"], result.SkippedRules);
        var report = result.Report("bot");
        Assert.Contains("Not replayed (the ledger never keeps prompt text): rule refunds.", report, StringComparison.Ordinal);
        Assert.Contains("scored the 6 records that kept a vector of its embedder (lexical", report, StringComparison.Ordinal);
    }

    private static async Task AskAsync(TestGateway gateway, string messages, string extra)
    {
        var body = "{\"model\":\"big\",\"messages\":[" + messages + "]" + extra + "}";
        using var response = await gateway.Client.PostAsync("/v1/chat/completions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }
}
