using System.Globalization;
using System.Text;
using Tollgate.Analytics.Metrics;

/// <summary>
/// Where a gateway's own time goes, per stage (admission, journal, reply, as <c>tollgate_gateway_stage_seconds</c> counts
/// them) and the provider's time apart: the mean, and the share of requests whose stage took over 1 ms and over 5 ms —
/// read from each gateway's histograms at the end of a run, so over all of its requests (settling, JSON and streams).
/// </summary>
internal static class StageTimes
{
    public static string Markdown(IEnumerable<(string Target, IServiceProvider Services)> gateways)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine("| target | stage | requests | mean µs | over 1 ms | over 5 ms |");
        text.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var (target, services) in gateways)
        {
            if (services.GetService(typeof(GatewayMetrics)) is not GatewayMetrics metrics)
            {
                continue;
            }

            var rows = GatewayMetrics.Stages.Select((stage, i) => (stage, (Histogram?)metrics.StageTimes[i]))
                .Append(("upstream", OnlyDeployment(metrics.Latency.Select(l => l.Value.Upstream))));
            foreach (var (stage, histogram) in rows)
            {
                if (histogram is null)
                {
                    continue;
                }

                var (cumulative, sum) = histogram.Snapshot();
                var count = cumulative[^1];
                if (count == 0)
                {
                    continue;
                }

                text.AppendLine(string.Create(c, $"| {target} | {stage} | {count:N0} | {sum / count * 1e6:F0} | {Share(Over(histogram, cumulative, 0.001))} | {Share(Over(histogram, cumulative, 0.005))} |"));
            }
        }

        return text.ToString();
    }

    /// <summary>The share of observations above <paramref name="bound"/> (one of the histogram's bounds); NaN when it is not one.</summary>
    private static double Over(Histogram histogram, long[] cumulative, double bound)
    {
        var index = histogram.Bounds.ToList().FindIndex(b => Math.Abs(b - bound) < 1e-12);
        return index < 0 ? double.NaN : 1 - (cumulative[index] / (double)cumulative[^1]);
    }

    private static string Share(double share) => double.IsNaN(share) ? "–" : share.ToString("P2", CultureInfo.InvariantCulture);

    /// <summary>The deployment's histogram (each of the bench's gateways has one deployment); null when none.</summary>
    private static Histogram? OnlyDeployment(IEnumerable<Histogram> histograms) => histograms.FirstOrDefault();

    /// <summary>The process's collections by generation and pause time so far (all of the bench's parts share it).</summary>
    public static (int[] Collections, TimeSpan Paused) GcSnapshot() =>
        ([.. Enumerable.Range(0, GC.MaxGeneration + 1).Select(GC.CollectionCount)], GC.GetTotalPauseDuration());

    public static string GcLine((int[] Collections, TimeSpan Paused) before, (int[] Collections, TimeSpan Paused) after, TimeSpan wall)
    {
        var counts = string.Join(", ", after.Collections.Select((n, g) => $"gen{g} {n - before.Collections[g]:N0}"));
        var paused = after.Paused - before.Paused;
        return string.Create(CultureInfo.InvariantCulture, $"GC over the measured slices: {counts} collections, {paused.TotalMilliseconds:N0} ms paused ({paused / wall:P2} of {wall.TotalSeconds:N0} s).");
    }
}
