using Tollgate.Ledger.Rollups;
using Xunit;

namespace Tollgate.Tests.Ledger;

/// <summary>Rollup rows round-trip exactly, and rows written by an earlier version are still read (the fields they lack at zero).</summary>
public sealed class RollupTotalsCodecTests
{
    private static RollupTotals Sample() => new()
    {
        Requests = 7, InputTokens = 12_345, CachedInputTokens = 3, CacheWriteTokens = 4, CacheWrite1hTokens = 5, OutputTokens = 678,
        ReasoningTokens = 9, EstimatedRequests = 1, UnpricedRequests = 2, ResponseCacheHits = 3,
        CostInput = 0.000000123456789012345m, CostCachedInput = 1.5m, CostCacheWrite = 0.25m, CostOutput = 79228162514264.337593543950335m,
        CostReasoning = 0.1m, CostTotal = 12.000000000000000001m, CacheSavings = -0.0001m, ResponseCacheSaved = 0.3m, ResponseCacheSpent = 0.0000042m, RoutingSaved = -1.25m, BatchSaved = 0.5000000001m,
    };

    [Fact]
    public void A_row_round_trips_to_the_last_decimal()
    {
        var bytes = new byte[RollupTotalsCodec.Size];
        RollupTotalsCodec.Write(Sample(), bytes);

        var read = RollupTotalsCodec.Read(bytes);

        Assert.Equivalent(Sample(), read, strict: true);
    }

    [Fact]
    public void A_row_from_before_batch_savings_reads_with_them_at_zero()
    {
        var bytes = new byte[RollupTotalsCodec.Size];
        RollupTotalsCodec.Write(Sample(), bytes);

        var read = RollupTotalsCodec.Read(bytes.AsSpan(0, 240));

        var expected = Sample();
        expected.BatchSaved = 0;
        Assert.Equivalent(expected, read, strict: true);
    }

    [Fact]
    public void A_row_from_before_the_caches_own_spend_and_routing_reads_with_those_sums_at_zero()
    {
        var bytes = new byte[RollupTotalsCodec.Size];
        RollupTotalsCodec.Write(Sample(), bytes);

        // The 208-byte layout is the 256-byte one without its last three sums.
        var read = RollupTotalsCodec.Read(bytes.AsSpan(0, 208));

        var expected = Sample();
        expected.ResponseCacheSpent = 0;
        expected.RoutingSaved = 0;
        expected.BatchSaved = 0;
        Assert.Equivalent(expected, read, strict: true);
        Assert.Throws<InvalidDataException>(() => RollupTotalsCodec.Read(bytes.AsSpan(0, 200)));
    }
}
