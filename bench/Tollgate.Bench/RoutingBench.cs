using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tollgate.Ledger;
using Tollgate.Optimization.SemanticCaching;
using Tollgate.Routing;
using Tollgate.Routing.Difficulty;

namespace Tollgate.Bench;

/// <summary>
/// <c>--routing</c>: the time a router takes to decide, per request, on real first-turn prompts (ShareGPT, given by
/// path): a chain of rules (feature, tag, characters, tools, a regular expression, then a token count), sticky weights,
/// and the difficulty strategy with the lexical embedder and with MiniLM (embedding included, stated apart).
/// Run on one core: <c>taskset -c 0 dotnet Tollgate.Bench.dll --routing ../shared/eval/prompts/ShareGPT_V3_filtered_1000.json</c>.
/// </summary>
internal static class RoutingBench
{
    public static async Task RunAsync(string promptsPath)
    {
        using var file = JsonDocument.Parse(await File.ReadAllBytesAsync(promptsPath));
        var prompts = file.RootElement.EnumerateArray()
            .Select(e => e.GetProperty("conversations").EnumerateArray().FirstOrDefault(t => t.GetProperty("from").GetString() == "human"))
            .Where(t => t.ValueKind == JsonValueKind.Object)
            .Select(t => t.GetProperty("value").GetString() ?? string.Empty)
            .ToList();
        var bodies = prompts.Select(p => JsonSerializer.SerializeToElement(new
        {
            model = "bot",
            messages = new object[] { new { role = "system", content = "You are a helpful assistant." }, new { role = "user", content = p } },
        })).ToList();
        var attribution = new Attribution("key_1", "user-7", null, null, "chat", null, null, new Dictionary<string, string> { ["team"] = "search" });

        RouteRule[] rules =
        [
            new("vip", "big") { Tag = ("tier", "vip") },
            new("analysis", "big") { Feature = "analysis" },
            new("tools", "big") { Tools = true },
            new("refunds", "mini") { Pattern = new Regex("(?i)refund|hoàn tiền|return policy", RegexOptions.CultureInvariant | RegexOptions.Compiled, RouteRule.RegexTimeout) },
            new("short", "mini") { MaxChars = 200 },
            new("long", "big") { MinTokens = 1_000 },
        ];
        var lexical = new LexicalEmbedder();
        using var minilm = SentenceModelEmbedder.Create("minilm")!;
        var examples = new DifficultySettings("x", "big", "mini")
        {
            Simple = ["What are your opening hours?", "What is your refund policy?", "How long does shipping take?"],
            Complex = ["Analyse our sales by region, compare with last year and recommend a strategy step by step.", "Write a program that parses a log file and reports errors by hour."],
        };

        Console.WriteLine($"Routing decision, {prompts.Count:N0} ShareGPT first-turn prompts (median {prompts.Select(p => p.Length).Order().ElementAt(prompts.Count / 2):N0} characters), one core:");
        Console.WriteLine();
        Console.WriteLine("| router | p50 | p90 | p99 |");
        Console.WriteLine("|---|---:|---:|---:|");
        await TimeAsync("weights only (sticky by user)", new Router(Settings([], []), null), bodies, attribution);
        await TimeAsync("six rules, then weights (a token count when the rules reach it)", new Router(Settings(rules, [new("mini", 95), new("big", 5)]), null), bodies, attribution);
        await TimeAsync("difficulty, example centroids, lexical embedder", new Router(Settings([], []), null, new DifficultyScorer(examples with { Embedder = "lexical", Margin = 0.02 }, lexical, null)), bodies, attribution);
        await TimeAsync("difficulty, example centroids, MiniLM (embedding included)", new Router(Settings([], []), null, new DifficultyScorer(examples with { Embedder = "minilm" }, minilm, null)), bodies, attribution, limit: 300);
    }

    private static RouterSettings Settings(IReadOnlyList<RouteRule> rules, IReadOnlyList<TargetWeight> weights) =>
        new("bot", ["mini", "big"], null, StickyBy.User, rules, weights.Count > 0 ? weights : [new("mini", 80), new("big", 20)]);

    private static async Task TimeAsync(string name, Router router, IReadOnlyList<JsonElement> bodies, Attribution attribution, int limit = int.MaxValue)
    {
        var c = CultureInfo.InvariantCulture;
        var sample = bodies.Take(limit).ToList();
        foreach (var body in sample.Take(50))
        {
            await router.DecideAsync(new RouteRequest(body, attribution, () => Tollgate.Metering.Tokenization.PromptTokenCounter.Count(body, "gpt-4o-mini").Tokens), CancellationToken.None);
        }

        var times = new List<double>();
        for (var round = 0; round < (limit == int.MaxValue ? 5 : 1); round++)
        {
            foreach (var body in sample)
            {
                var started = Stopwatch.GetTimestamp();
                await router.DecideAsync(new RouteRequest(body, attribution, () => Tollgate.Metering.Tokenization.PromptTokenCounter.Count(body, "gpt-4o-mini").Tokens), CancellationToken.None);
                times.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            }
        }

        times.Sort();
        double At(double q) => times[(int)Math.Min(times.Count - 1, q * times.Count)];
        Console.WriteLine(string.Create(c, $"| {name} | {At(0.5):0.0} µs | {At(0.9):0.0} µs | {At(0.99):0.0} µs |"));
    }
}
