namespace Tollgate.Analytics.Metrics;

/// <summary>A Prometheus histogram: counts per upper bound, the sum and the count of observations. Thread-safe.</summary>
public sealed class Histogram(IReadOnlyList<double> bounds)
{
    private readonly long[] _counts = new long[bounds.Count + 1];
    private readonly Lock _sumGate = new();
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
        lock (_sumGate)
        {
            _sum += value;
        }
    }

    /// <summary>Cumulative counts per bound (the last is +Inf, equal to the count), and the sum.</summary>
    public (long[] Cumulative, double Sum) Snapshot()
    {
        double sum;
        lock (_sumGate)
        {
            sum = _sum;
        }

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
