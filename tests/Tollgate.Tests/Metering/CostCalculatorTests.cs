using Tollgate.Metering;
using Xunit;

namespace Tollgate.Tests.Metering;

public sealed class CostCalculatorTests
{
    private static readonly TokenPrice O4Mini = new()
    {
        Model = "o4-mini",
        EffectiveFrom = new DateOnly(2025, 4, 16),
        InputPerMillion = 1.1m,
        CachedInputPerMillion = 0.275m,
        OutputPerMillion = 4.4m,
    };

    [Fact]
    public void Cached_and_reasoning_tokens_are_priced_at_their_own_rates_and_never_twice()
    {
        // 1,200 prompt tokens of which 1,024 cached; 300 output tokens of which 100 reasoning.
        var cost = CostCalculator.Price(new Usage(1200, 1024, null, 300, 100), O4Mini);

        Assert.Equal(176 * 1.1m / 1_000_000m, cost.Input);
        Assert.Equal(1024 * 0.275m / 1_000_000m, cost.CachedInput);
        Assert.Equal(200 * 4.4m / 1_000_000m, cost.Output);
        Assert.Equal(100 * 4.4m / 1_000_000m, cost.Reasoning);
        Assert.Equal(0.0017952m, cost.Total);
    }

    [Fact]
    public void Cache_writes_use_the_write_rate_and_fall_back_to_input_when_the_model_has_none()
    {
        var sonnet = new TokenPrice
        {
            Model = "claude-sonnet-4-5",
            EffectiveFrom = new DateOnly(2025, 9, 29),
            InputPerMillion = 3m,
            CachedInputPerMillion = 0.3m,
            CacheWritePerMillion = 3.75m,
            OutputPerMillion = 15m,
        };
        var usage = new Usage(InputTokens: 7_300, CachedInputTokens: 0, CacheWriteTokens: 7_200, OutputTokens: 50, ReasoningTokens: null);

        var withWriteRate = CostCalculator.Price(usage, sonnet);
        var withoutWriteRate = CostCalculator.Price(usage, sonnet with { CacheWritePerMillion = null });

        Assert.Equal((100 * 3m + 7_200 * 3.75m + 50 * 15m) / 1_000_000m, withWriteRate.Total);
        Assert.Equal((7_300 * 3m + 50 * 15m) / 1_000_000m, withoutWriteRate.Total);
    }

    [Fact]
    public void A_separate_reasoning_rate_applies_only_to_reasoning_tokens()
    {
        var price = O4Mini with { ReasoningPerMillion = 10m };

        var cost = CostCalculator.Price(new Usage(0, 0, null, 300, 100), price);

        Assert.Equal(200 * 4.4m / 1_000_000m, cost.Output);
        Assert.Equal(100 * 10m / 1_000_000m, cost.Reasoning);
    }

    [Fact]
    public void Unreported_counts_cost_nothing_and_inconsistent_reasoning_is_not_billed_beyond_the_output()
    {
        Assert.Equal(0m, CostCalculator.Price(Usage.None, O4Mini).Total);

        var cost = CostCalculator.Price(new Usage(10, null, null, 5, 9), O4Mini);

        Assert.Equal((10 * 1.1m + 5 * 4.4m) / 1_000_000m, cost.Total);
    }

    [Fact]
    public void Worst_case_assumes_every_prompt_token_uncached_and_every_output_token_spent()
    {
        Assert.Equal((1000 * 1.1m + 4096 * 4.4m) / 1_000_000m, CostCalculator.WorstCase(1000, 4096, O4Mini));
    }
}
