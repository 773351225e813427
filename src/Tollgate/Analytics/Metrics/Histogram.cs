namespace Tollgate.Analytics.Metrics;

/// <summary>A Prometheus histogram: counts per upper bound, the sum and the count of observations. Thread-safe.</summary>
public sealed class Histogram(IReadOnlyList<double> bounds)
{
    private readonly long[] _counts = new long[bounds.Count + 1];
    private double _sum;

    public IReadOnlyList<double> Bounds { get; } = bounds;

    public void Observe(double value)
    {
        var index = 0;
        while (index < Bounds.Count && value > Bounds[index])
        {
            index++;
        }

        Interlocked.Increment(ref _counts[index]);
        double seen, added;
        do
        {
            seen = Volatile.Read(ref _sum);
            added = seen + value;
        }
        while (Interlocked.CompareExchange(ref _sum, added, seen) != seen);
    }

    /// <summary>Cumulative counts per bound (the last is +Inf, equal to the count), and the sum.</summary>
    public (long[] Cumulative, double Sum) Snapshot()
    {
        var sum = Volatile.Read(ref _sum);

        var cumulative = new long[_counts.Length];
        long running = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            running += Interlocked.Read(ref _counts[i]);
            cumulative[i] = running;
        }

        return (cumulative, sum);
    }
}
