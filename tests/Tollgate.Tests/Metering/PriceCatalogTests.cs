using Tollgate.Metering;
using Xunit;

namespace Tollgate.Tests.Metering;

public sealed class PriceCatalogTests
{
    private static TokenPrice Price(string model, DateOnly from, decimal input) => new()
    {
        Model = model,
        EffectiveFrom = from,
        InputPerMillion = input,
        OutputPerMillion = input * 4,
    };

    [Fact]
    public void A_request_is_priced_at_the_price_in_force_on_its_day()
    {
        var catalog = new PriceCatalog([
            Price("deepseek-chat", new DateOnly(2025, 1, 1), 0.27m),
            Price("deepseek-chat", new DateOnly(2025, 9, 29), 0.28m),
        ]);

        Assert.Null(catalog.Find("deepseek-chat", new DateOnly(2024, 12, 31)));
        Assert.Equal(0.27m, catalog.Find("deepseek-chat", new DateOnly(2025, 9, 28))!.InputPerMillion);
        Assert.Equal(0.28m, catalog.Find("deepseek-chat", new DateOnly(2025, 9, 29))!.InputPerMillion);
    }

    [Theory]
    [InlineData("gpt-4o-mini-2024-07-18", "gpt-4o-mini")]
    [InlineData("claude-sonnet-4-20250514", "claude-sonnet-4")]
    [InlineData("groq/llama-3.1-8b-instant", "llama-3.1-8b-instant")]
    [InlineData("GPT-4O-MINI", "gpt-4o-mini")]
    public void Dated_snapshots_and_provider_prefixes_find_their_family(string asked, string found)
    {
        var catalog = PriceCatalogReader.BuiltIn();

        Assert.Equal(found, catalog.Find(asked, new DateOnly(2026, 1, 1))?.Model);
    }

    [Fact]
    public void An_unknown_model_has_no_price_rather_than_a_guess()
    {
        Assert.Null(PriceCatalogReader.BuiltIn().Find("my-finetune-v3", new DateOnly(2026, 1, 1)));
    }

    [Fact]
    public void The_built_in_catalogue_carries_every_rate_kind_exactly()
    {
        var catalog = PriceCatalogReader.BuiltIn();
        var day = new DateOnly(2026, 11, 24);

        var mini = catalog.Find("gpt-4o-mini", day)!;
        Assert.Equal((0.15m, 0.075m, 0.6m, 0.075m, 0.3m), (mini.InputPerMillion, mini.CachedInputPerMillion!.Value, mini.OutputPerMillion, mini.BatchInputPerMillion!.Value, mini.BatchOutputPerMillion!.Value));
        Assert.Equal((0.01m, 0.025m, 0.0025m, 0.03m), (mini.ToolCallPrices!["web_search"], mini.ToolCallPrices["web_search_preview"], mini.ToolCallPrices["file_search"], mini.ToolCallPrices["code_interpreter"]));
        Assert.Equal(0.01m, catalog.Find("o3", day)!.ToolCallPrices!["web_search_preview"]);
        var sonnet = catalog.Find("claude-sonnet-4-5", day)!;
        Assert.Equal((3m, 0.3m, 3.75m, 15m), (sonnet.InputPerMillion, sonnet.CachedInputPerMillion!.Value, sonnet.CacheWritePerMillion!.Value, sonnet.OutputPerMillion));
        foreach (var provider in new[] { "openai", "anthropic", "google", "deepseek", "mistral", "groq" })
        {
            Assert.Contains(catalog.All, p => p.Provider == provider);
        }
    }

    [Theory]
    [InlineData("gemini-2.0-flash", 0.1, 0.4)]
    [InlineData("gemini/gemini-1.5-flash", 0.075, 0.3)]
    [InlineData("gemini-1.5-pro-002", 1.25, 5)]
    [InlineData("gemini-2.0-flash-001", 0.1, 0.4)]
    [InlineData("amazon.nova-pro-v1:0", 0.8, 3.2)]
    [InlineData("amazon/nova-pro-v1", 0.8, 3.2)]
    public void Models_users_price_by_name_are_in_the_catalogue(string model, double input, double output)
    {
        var price = PriceCatalogReader.BuiltIn().Find(model, new DateOnly(2026, 12, 1));

        Assert.NotNull(price);
        Assert.Equal(((decimal)input, (decimal)output), (price.InputPerMillion, price.OutputPerMillion));
    }

    [Fact]
    public void Every_shipped_price_records_its_source_and_when_it_was_checked()
    {
        using var stream = typeof(PriceCatalogReader).Assembly.GetManifestResourceStream("Tollgate.Metering.prices.json")!;
        using var catalogue = System.Text.Json.JsonDocument.Parse(stream);

        foreach (var entry in catalogue.RootElement.GetProperty("prices").EnumerateArray())
        {
            var model = entry.GetProperty("model").GetString();
            Assert.True(entry.TryGetProperty("source", out var source) && source.GetString()!.StartsWith("https://", StringComparison.Ordinal), $"{model} has no source");
            Assert.True(entry.TryGetProperty("checked", out var checkedOn) && DateOnly.TryParseExact(checkedOn.GetString(), "yyyy-MM-dd", out _), $"{model} has no checked date");
        }
    }

    [Fact]
    public void A_price_check_finds_each_counterpart_preferring_the_same_provider_and_lists_every_disagreement()
    {
        var theirs = LiteLlmPriceImporter.Read(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("""
            {
              "azure/model-a": { "input_cost_per_token": 9e-06, "output_cost_per_token": 9e-06, "litellm_provider": "azure" },
              "acme/model-a": { "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "acme" },
              "model-b-20250101": { "input_cost_per_token": 1e-06, "output_cost_per_token": 3e-06, "litellm_provider": "acme" }
            }
            """)), DateOnly.MinValue).Prices;
        TokenPrice Ours(string model, decimal input, decimal output) => new() { Model = model, Provider = "acme", EffectiveFrom = DateOnly.MinValue, InputPerMillion = input, OutputPerMillion = output };

        var checks = PriceComparison.Compare([Ours("model-a", 1, 2), Ours("model-b", 1, 2), Ours("model-c", 1, 1)], theirs);

        Assert.True(checks.Single(c => c.Ours.Model == "model-a").Agrees);
        var b = checks.Single(c => c.Ours.Model == "model-b");
        Assert.Equal("model-b-20250101", b.Counterpart);
        Assert.Equal(new PriceDifference("output", "2", "3"), Assert.Single(b.Differences));
        Assert.Null(checks.Single(c => c.Ours.Model == "model-c").Counterpart);
    }
}
