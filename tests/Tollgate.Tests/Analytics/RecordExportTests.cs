using System.Text.Json;
using Tollgate.Analytics;
using Tollgate.Metering;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Analytics;

public sealed class RecordExportTests
{
    [Fact]
    public async Task Each_cost_column_can_be_recomputed_from_the_exported_token_columns_and_the_prices()
    {
        // claude-sonnet-4-5: $3 input, $0.30 cache read, $3.75 5-minute and $6 1-hour cache writes, $15 output.
        var price = new TokenPrice
        {
            Model = "claude-sonnet-4-5", Provider = "anthropic", EffectiveFrom = DateOnly.MinValue,
            InputPerMillion = 3m, CachedInputPerMillion = 0.3m, CacheWritePerMillion = 3.75m, CacheWrite1hPerMillion = 6m, OutputPerMillion = 15m,
        };
        var usage = new Usage(InputTokens: 5_000, CachedInputTokens: 1_000, CacheWriteTokens: 3_000, OutputTokens: 400, ReasoningTokens: null) { CacheWrite1hTokens = 1_200 };
        var record = Records.Ok("claude-sonnet-4-5", DateTimeOffset.UnixEpoch, usage, CostCalculator.Price(usage, price));
        using var output = new MemoryStream();

        await RecordExport.WriteJsonAsync(output, Enumerate(record), CancellationToken.None);

        var row = JsonDocument.Parse(output.ToArray()).RootElement[0];
        var writes = row.GetProperty("cache_write_tokens").GetInt64();
        var hourWrites = row.GetProperty("cache_write_1h_tokens").GetInt64();
        Assert.Equal(1_200, hourWrites);
        Assert.Equal(((writes - hourWrites) * 3.75m + hourWrites * 6m) / 1_000_000m, row.GetProperty("cost_cache_write_usd").GetDecimal());
    }

    private static async IAsyncEnumerable<Tollgate.Ledger.UsageRecord> Enumerate(Tollgate.Ledger.UsageRecord record)
    {
        await Task.Yield();
        yield return record;
    }
}
