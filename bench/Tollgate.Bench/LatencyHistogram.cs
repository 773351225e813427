namespace Tollgate.Bench;

/// <summary>
/// Latencies counted in buckets 0.5% wide (1 µs to ~100 s), so that a slice of load records each request with one
/// increment and allocates nothing while it runs: a list of every latency, copied out after each slice, put ~100 KB
/// arrays on the large-object heap and set off a full collection about once a slice — in the very process whose tail
/// the bench measures. Percentiles are read to within 0.25%.
/// </summary>
internal sealed class LatencyHistogram
{
    private const double Growth = 1.005;
    private static readonly double LogGrowth = Math.Log(Growth);
    private static readonly int Buckets = (int)Math.Ceiling(Math.Log(1e8) / LogGrowth) + 1;

    private readonly long[] _counts = new long[Buckets];
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    /// <summary>Counts one latency in µs (safe from many workers at once).</summary>
    public void Record(double micros)
    {
        var bucket = micros <= 1 ? 0 : Math.Min(Buckets - 1, (int)(Math.Log(micros) / LogGrowth));
        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Increment(ref _total);
    }

    /// <summary>The slices' latencies taken together.</summary>
    public static LatencyHistogram Merge(IEnumerable<LatencyHistogram> parts)
    {
        var merged = new LatencyHistogram();
        foreach (var part in parts)
        {
            for (var i = 0; i < Buckets; i++)
            {
                merged._counts[i] += part._counts[i];
            }

            merged._total += part._total;
        }

        return merged;
    }

    /// <summary>The latency below which a share <paramref name="p"/> of the requests fell (the bucket's middle), in µs; NaN with none.</summary>
    public double Percentile(double p)
    {
        if (_total == 0)
        {
            return double.NaN;
        }

        // The same rank as reading a sorted array at floor(p × n).
        var rank = Math.Min(_total - 1, (long)Math.Floor(p * _total));
        long seen = 0;
        for (var i = 0; i < Buckets; i++)
        {
            seen += _counts[i];
            if (seen > rank)
            {
                return i == 0 ? 1 : Math.Pow(Growth, i + 0.5);
            }
        }

        return Math.Pow(Growth, Buckets);
    }
}
