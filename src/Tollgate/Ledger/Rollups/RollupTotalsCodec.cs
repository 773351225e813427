using System.Buffers.Binary;

namespace Tollgate.Ledger.Rollups;

/// <summary>
/// <see cref="RollupTotals"/> as 256 bytes: the ten counts as 64-bit integers and the eleven sums of money as the
/// four 32-bit parts of each <see cref="decimal"/>, little-endian. Exact (a decimal's bits, not text or a float), and
/// read back without parsing — a month of hourly rows by user is hundreds of thousands of them. Older rows are read
/// with the fields they lack at zero: 240 bytes (before batch savings), 208 bytes (before the response cache's own spend and routing), 184 bytes (before the
/// response cache: nine counts, seven sums).
/// </summary>
public static class RollupTotalsCodec
{
    public const int Size = (Counts * 8) + (Sums * 16);
    private const int Counts = 10;
    private const int Sums = 11;
    private const int SizeBeforeBatchSaved = (Counts * 8) + (10 * 16);
    private const int SizeBeforeResponseCacheSpent = (Counts * 8) + (8 * 16);
    private const int SizeBeforeResponseCache = (9 * 8) + (7 * 16);

    public static void Write(RollupTotals totals, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(totals);
        var at = 0;
        foreach (var count in (ReadOnlySpan<long>)[totals.Requests, totals.InputTokens, totals.CachedInputTokens, totals.CacheWriteTokens, totals.CacheWrite1hTokens,
                     totals.OutputTokens, totals.ReasoningTokens, totals.EstimatedRequests, totals.UnpricedRequests, totals.ResponseCacheHits])
        {
            BinaryPrimitives.WriteInt64LittleEndian(destination[at..], count);
            at += 8;
        }

        Span<int> bits = stackalloc int[4];
        foreach (var money in (ReadOnlySpan<decimal>)[totals.CostInput, totals.CostCachedInput, totals.CostCacheWrite, totals.CostOutput, totals.CostReasoning, totals.CostTotal, totals.CacheSavings, totals.ResponseCacheSaved, totals.ResponseCacheSpent, totals.RoutingSaved, totals.BatchSaved])
        {
            decimal.GetBits(money, bits);
            for (var i = 0; i < 4; i++)
            {
                BinaryPrimitives.WriteInt32LittleEndian(destination[at..], bits[i]);
                at += 4;
            }
        }
    }

    public static RollupTotals Read(ReadOnlySpan<byte> source)
    {
        var totals = new RollupTotals();
        ReadInto(source, totals);
        return totals;
    }

    /// <summary>Decodes into an existing instance (a reader that hands rows on one at a time reuses one).</summary>
    public static void ReadInto(ReadOnlySpan<byte> source, RollupTotals totals)
    {
        ArgumentNullException.ThrowIfNull(totals);
        var counts = source.Length switch
        {
            Size or SizeBeforeBatchSaved or SizeBeforeResponseCacheSpent => Counts,
            SizeBeforeResponseCache => 9,
            _ => throw new InvalidDataException($"A rollup row holds {source.Length} bytes, not {Size}."),
        };
        totals.Requests = Count(source, 0);
        totals.InputTokens = Count(source, 1);
        totals.CachedInputTokens = Count(source, 2);
        totals.CacheWriteTokens = Count(source, 3);
        totals.CacheWrite1hTokens = Count(source, 4);
        totals.OutputTokens = Count(source, 5);
        totals.ReasoningTokens = Count(source, 6);
        totals.EstimatedRequests = Count(source, 7);
        totals.UnpricedRequests = Count(source, 8);
        totals.CostInput = Money(source, counts, 0);
        totals.CostCachedInput = Money(source, counts, 1);
        totals.CostCacheWrite = Money(source, counts, 2);
        totals.CostOutput = Money(source, counts, 3);
        totals.CostReasoning = Money(source, counts, 4);
        totals.CostTotal = Money(source, counts, 5);
        totals.CacheSavings = Money(source, counts, 6);
        totals.ResponseCacheHits = counts == Counts ? Count(source, 9) : 0;
        totals.ResponseCacheSaved = counts == Counts ? Money(source, counts, 7) : 0;
        totals.ResponseCacheSpent = source.Length >= SizeBeforeBatchSaved ? Money(source, counts, 8) : 0;
        totals.RoutingSaved = source.Length >= SizeBeforeBatchSaved ? Money(source, counts, 9) : 0;
        totals.BatchSaved = source.Length == Size ? Money(source, counts, 10) : 0;
    }

    private static long Count(ReadOnlySpan<byte> source, int index) => BinaryPrimitives.ReadInt64LittleEndian(source[(index * 8)..]);

    private static decimal Money(ReadOnlySpan<byte> source, int counts, int index)
    {
        var at = (counts * 8) + (index * 16);
        return new decimal([
            BinaryPrimitives.ReadInt32LittleEndian(source[at..]), BinaryPrimitives.ReadInt32LittleEndian(source[(at + 4)..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[(at + 8)..]), BinaryPrimitives.ReadInt32LittleEndian(source[(at + 12)..])]);
    }
}
