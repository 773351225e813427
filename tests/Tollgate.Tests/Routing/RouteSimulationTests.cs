using Tollgate.Configuration;
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
        Assert.Equal(["short"], result.SkippedRules);
        Assert.Contains("Not replayed (the ledger keeps no prompts): rule short.", result.Report("bot"), StringComparison.Ordinal);
    }
}
