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
        var sonnet = catalog.Find("claude-sonnet-4-5", day)!;
        Assert.Equal((3m, 0.3m, 3.75m, 15m), (sonnet.InputPerMillion, sonnet.CachedInputPerMillion!.Value, sonnet.CacheWritePerMillion!.Value, sonnet.OutputPerMillion));
        foreach (var provider in new[] { "openai", "anthropic", "google", "deepseek", "mistral", "groq" })
        {
            Assert.Contains(catalog.All, p => p.Provider == provider);
        }
    }
}
