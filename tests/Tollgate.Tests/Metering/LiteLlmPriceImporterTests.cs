using System.Text;
using Tollgate.Metering;
using Xunit;

namespace Tollgate.Tests.Metering;

public sealed class LiteLlmPriceImporterTests
{
    private const string PriceList = """
        {
          "sample_spec": { "input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "litellm_provider": "one of ..." },
          "claude-sonnet-4-5": {
            "litellm_provider": "anthropic", "max_output_tokens": 64000,
            "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
            "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
            "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05,
            "cache_read_input_token_cost_above_200k_tokens": 6e-07, "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06
          },
          "gpt-4o-mini": {
            "litellm_provider": "openai", "input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07,
            "cache_read_input_token_cost": 7.5e-08, "input_cost_per_token_batches": 7.5e-08, "output_cost_per_token_batches": 3e-07,
            "file_search_cost_per_1k_calls": 2.5, "code_interpreter_cost_per_session": 0.03
          },
          "gemini-2.5-flash": { "input_cost_per_token": 3e-07, "output_cost_per_token": 2.5e-06, "output_cost_per_reasoning_token": 3.5e-06 },
          "dall-e-3": { "litellm_provider": "openai", "mode": "image_generation", "output_cost_per_image": 0.04 }
        }
        """;

    private static PriceImport Import() =>
        LiteLlmPriceImporter.Read(new MemoryStream(Encoding.UTF8.GetBytes(PriceList)), new DateOnly(2026, 11, 24));

    [Fact]
    public void Per_token_prices_become_exact_per_million_prices_with_every_rate_kind()
    {
        var prices = Import().Prices.ToDictionary(p => p.Model);

        var sonnet = prices["claude-sonnet-4-5"];
        Assert.Equal(("anthropic", 3m, 0.3m, 3.75m, 15m, 64000), (sonnet.Provider, sonnet.InputPerMillion, sonnet.CachedInputPerMillion!.Value, sonnet.CacheWritePerMillion!.Value, sonnet.OutputPerMillion, sonnet.MaxOutputTokens!.Value));
        Assert.Equal(new LongContextPrice(200_000, 6m, 0.6m, 7.5m, 22.5m), sonnet.LongContext);
        var mini = prices["gpt-4o-mini"];
        Assert.Equal((0.15m, 0.075m, 0.6m, 0.075m, 0.3m), (mini.InputPerMillion, mini.CachedInputPerMillion!.Value, mini.OutputPerMillion, mini.BatchInputPerMillion!.Value, mini.BatchOutputPerMillion!.Value));
        Assert.Equal(new Dictionary<string, decimal> { ["code_interpreter"] = 0.03m, ["file_search"] = 0.0025m }, mini.ToolCallPrices!.OrderBy(t => t.Key).ToDictionary());
        Assert.Null(sonnet.ToolCallPrices);
        Assert.Equal(3.5m, prices["gemini-2.5-flash"].ReasoningPerMillion);
        Assert.All(prices.Values, p => Assert.Equal(new DateOnly(2026, 11, 24), p.EffectiveFrom));
        Assert.Equal("2.5", prices["gemini-2.5-flash"].OutputPerMillion.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Entries_without_token_prices_are_skipped_and_named()
    {
        var import = Import();

        Assert.Equal(3, import.Prices.Count);
        Assert.Equal(["dall-e-3: no per-token input and output price"], import.Skipped);
    }

    [Fact]
    public void Written_and_read_back_the_catalogue_is_the_same()
    {
        var prices = Import().Prices;
        var buffer = new MemoryStream();

        PriceCatalogWriter.Write(buffer, prices);
        buffer.Position = 0;
        var read = PriceCatalogReader.Read(buffer);

        // Field by field (tool-call rates are a dictionary, compared by content).
        Assert.Equivalent(prices.OrderBy(p => p.Model).ToList(), read.OrderBy(p => p.Model).ToList(), strict: true);
        Assert.Contains(read, p => p.ToolCallPrices is { Count: 2 });
    }

    [Fact]
    public void A_long_prompt_moves_the_whole_request_to_the_long_context_rates()
    {
        var sonnet = Import().Prices.Single(p => p.Model == "claude-sonnet-4-5");

        var under = CostCalculator.Price(new Usage(200_000, 0, 0, 1_000, null), sonnet);
        var over = CostCalculator.Price(new Usage(200_001, 100_000, 1, 1_000, null), sonnet);

        Assert.Equal((200_000 * 3m + 1_000 * 15m) / 1_000_000m, under.Total);
        Assert.Equal((100_000 * 6m + 100_000 * 0.6m + 1 * 7.5m + 1_000 * 22.5m) / 1_000_000m, over.Total);
    }
}
