using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Tollgate.Bench;

/// <summary>The result of one closed-loop load run: throughput and latency percentiles.</summary>
/// <remarks>
/// CPU and allocation figures are for the whole benchmark process per request (load generator, upstream and the
/// target together); the difference between two targets in the same run is what the extra work costs.
/// </remarks>
internal sealed record LoadResult(string Target, int Connections, bool Stream, long Requests, long Errors, double Seconds, double P50Us, double P90Us, double P99Us, double CpuUsPerRequest, double AllocatedBytesPerRequest, double GcPauseUsPerRequest, string Collections)
{
    public double RequestsPerSecond => Requests / Seconds;

    /// <summary>The round with the median throughput.</summary>
    public static LoadResult Median(IReadOnlyList<LoadResult> rounds) => rounds.OrderBy(r => r.RequestsPerSecond).ElementAt(rounds.Count / 2);
}

/// <summary>
/// A closed-loop load generator: <c>connections</c> workers, each sending one request at a time on its own
/// connection for a fixed time, every latency kept.
/// </summary>
internal static class LoadRun
{
    public static async Task<LoadResult> RunAsync(string target, Uri url, string? bearer, string body, int connections, bool stream, TimeSpan warmup, TimeSpan duration)
    {
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            MaxConnectionsPerServer = connections,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        using var client = new HttpMessageInvoker(handler);
        var payload = Encoding.UTF8.GetBytes(body);

        async Task<bool> SendOneAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(payload) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            if (bearer is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            }

            using var response = await client.SendAsync(request, CancellationToken.None);
            await using var content = await response.Content.ReadAsStreamAsync();
            await content.CopyToAsync(Stream.Null);
            return response.IsSuccessStatusCode;
        }

        var errors = 0L;
        await PhaseAsync(warmup, null);
        errors = 0;
        var latencies = new List<double>[connections];
        for (var i = 0; i < connections; i++)
        {
            latencies[i] = new List<double>(200_000);
        }

        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var pauseBefore = GC.GetTotalPauseDuration();
        int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var watch = Stopwatch.StartNew();
        await PhaseAsync(duration, latencies);
        var seconds = watch.Elapsed.TotalSeconds;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        var pause = GC.GetTotalPauseDuration() - pauseBefore;
        var collections = string.Join('/', Enumerable.Range(0, 3).Select(g => GC.CollectionCount(g) - collectionsBefore[g]));
        var all = latencies.SelectMany(l => l).Order().ToArray();
        var count = Math.Max(1, all.Length);
        return new LoadResult(target, connections, stream, all.Length, errors, seconds, Percentile(all, 0.50), Percentile(all, 0.90), Percentile(all, 0.99),
            cpu.TotalMicroseconds / count, (double)allocated / count, pause.TotalMicroseconds / count, collections);

        async Task PhaseAsync(TimeSpan length, List<double>[]? record)
        {
            var end = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
            var workers = Enumerable.Range(0, connections).Select(async worker =>
            {
                while (Stopwatch.GetTimestamp() < end)
                {
                    var start = Stopwatch.GetTimestamp();
                    var ok = await SendOneAsync();
                    var micros = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                    if (!ok)
                    {
                        Interlocked.Increment(ref errors);
                    }
                    else
                    {
                        record?[worker].Add(micros);
                    }
                }
            });
            await Task.WhenAll(workers);
        }
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(p * sorted.Length))];
}
