using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Tollgate.Bench;

/// <summary>Throughput and latency percentiles of a target under load, from one or several slices of load added up.</summary>
/// <remarks>
/// CPU and allocation figures are for the whole benchmark process per request (load generator, upstream and the
/// target together); the difference between two targets in the same run is what the extra work costs.
/// </remarks>
internal sealed record LoadResult(string Target, int Connections, bool Stream, long Requests, long Errors, double Seconds, double P50Us, double P90Us, double P99Us, double P999Us, double CpuUsPerRequest, double AllocatedBytesPerRequest, double GcPauseUsPerRequest, string Collections)
{
    /// <summary>The time to the response body's first byte, median and 99th percentile (what a streaming client waits before its first token).</summary>
    public (double P50Us, double P99Us) FirstByte { get; init; }

    public double RequestsPerSecond => Requests / Seconds;

    /// <summary>The slices of one target taken as one run: requests and time added up, every latency counted.</summary>
    public static LoadResult Of(string target, int connections, bool stream, IReadOnlyList<LoadSlice> slices)
    {
        var all = LatencyHistogram.Merge(slices.Select(s => s.Latencies));
        var firstBytes = LatencyHistogram.Merge(slices.Select(s => s.FirstBytes));
        var count = Math.Max(1, all.Count);
        var collections = string.Join('/', Enumerable.Range(0, 3).Select(g => slices.Sum(s => s.Collections[g])));
        return new LoadResult(target, connections, stream, all.Count, slices.Sum(s => s.Errors), slices.Sum(s => s.Seconds),
            all.Percentile(0.50), all.Percentile(0.90), all.Percentile(0.99), all.Percentile(0.999),
            slices.Sum(s => s.Cpu.TotalMicroseconds) / count, MedianAllocatedPerRequest(slices),
            slices.Sum(s => s.GcPause.TotalMicroseconds) / count, collections)
        {
            FirstByte = (firstBytes.Percentile(0.50), firstBytes.Percentile(0.99)),
        };
    }

    /// <summary>
    /// The median slice's bytes allocated per request: the runtime's running total of allocated bytes is read at the
    /// ends of each slice, and with the server GC it now and then jumps (even backwards) across a collection, which a
    /// sum over slices would carry into the row.
    /// </summary>
    private static double MedianAllocatedPerRequest(IReadOnlyList<LoadSlice> slices)
    {
        var perRequest = slices.Where(s => s.Requests > 0).Select(s => (double)s.AllocatedBytes / s.Requests).Order().ToList();
        return perRequest.Count == 0 ? double.NaN : perRequest[perRequest.Count / 2];
    }
}

/// <summary>What one slice of load measured: successful requests with their latencies, errors, and the process's CPU, allocations and GC.</summary>
internal sealed record LoadSlice(LatencyHistogram Latencies, long Errors, double Seconds, TimeSpan Cpu, long AllocatedBytes, TimeSpan GcPause, int[] Collections)
{
    /// <summary>Each successful request's time to the first byte of its response body, in µs.</summary>
    public LatencyHistogram FirstBytes { get; init; } = new();

    public long Requests => Latencies.Count;

    public double RequestsPerSecond => Requests / Seconds;

    public double CpuUsPerRequest => Cpu.TotalMicroseconds / Math.Max(1, Requests);
}

/// <summary>
/// One system under load — the upstream itself, the bare forwarder or Tollgate — with its own pool of keep-alive
/// connections, so that the connections stay open from one slice of load to the next, and the headers each of its
/// requests carries (attribution, for the gateway with every feature on).
/// </summary>
internal sealed class LoadTarget(string name, Uri url, string? bearer, int maxConnections, IReadOnlyDictionary<string, string>? headers = null) : IDisposable
{
    private static readonly Dictionary<string, string> NoHeaders = [];

    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        MaxConnectionsPerServer = maxConnections,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
    });

    private long _sent;

    public string Name { get; } = name;

    /// <summary>This target's body, from the bench's (another model name, for a router).</summary>
    public Func<string, string>? BodyOf { get; init; }

    /// <summary>
    /// When set, each request's question is made distinct (a request number in it), so that a cache misses every time:
    /// what turning a cache on costs the requests it cannot answer. The load generator's extra work is the same small
    /// rewrite per request.
    /// </summary>
    public string? DistinctQuestion { get; init; }

    /// <summary>A server running as a process of its own: its CPU is added to the bench process's in each slice.</summary>
    public IServerProcess? Server { get; init; }

    /// <summary>Sends one request and reads its whole answer; says whether it succeeded and when the body's first byte came.</summary>
    public async Task<(bool Ok, double FirstByteUs)> SendOneAsync(byte[] payload)
    {
        var start = Stopwatch.GetTimestamp();
        if (DistinctQuestion is { } question)
        {
            var n = Interlocked.Increment(ref _sent);
            payload = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(payload).Replace(question, $"{question} (request {n})", StringComparison.Ordinal));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        foreach (var (name, value) in headers ?? NoHeaders)
        {
            request.Headers.Add(name, value);
        }

        using var response = await _client.SendAsync(request, CancellationToken.None);
        await using var content = await response.Content.ReadAsStreamAsync();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            var read = await content.ReadAsync(buffer);
            var firstByte = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            while (read > 0)
            {
                read = await content.ReadAsync(buffer);
            }

            return (response.IsSuccessStatusCode, firstByte);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>
/// A closed-loop load generator: <c>connections</c> workers, each sending one request at a time for a fixed time,
/// every latency counted.
/// </summary>
internal static class LoadRun
{
    private const int SettleWindows = 3;

    public static async Task<LoadSlice> RunAsync(LoadTarget target, string body, int connections, TimeSpan warmup, TimeSpan duration)
    {
        var payload = Encoding.UTF8.GetBytes(target.BodyOf?.Invoke(body) ?? body);
        await DriveAsync(target, payload, connections, warmup, null);
        var latencies = new LatencyHistogram();
        var firstBytes = new LatencyHistogram();

        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime + (target.Server?.Cpu ?? TimeSpan.Zero);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var pauseBefore = GC.GetTotalPauseDuration();
        int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        var watch = Stopwatch.StartNew();
        var errors = await DriveAsync(target, payload, connections, duration, latencies, firstBytes);
        var seconds = watch.Elapsed.TotalSeconds;
        process.Refresh();
        return new LoadSlice(
            latencies,
            errors,
            seconds,
            process.TotalProcessorTime + (target.Server?.Cpu ?? TimeSpan.Zero) - cpuBefore,
            GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore,
            GC.GetTotalPauseDuration() - pauseBefore,
            [.. Enumerable.Range(0, 3).Select(g => GC.CollectionCount(g) - collectionsBefore[g])])
        {
            FirstBytes = firstBytes,
        };
    }

    /// <summary>
    /// Drives the target until its throughput stops rising. The JIT compiles hot code in tiers (quick code first, then
    /// instrumented, then optimised), and on a machine whose cores are all busy that takes many seconds; until it is
    /// done, a measurement compares start-up, not steady state. Throughput is read each second; once
    /// <paramref name="minimum"/> has passed, the target has settled when the mean of the last three seconds is no more
    /// than 3% above the mean of the three before them, or at <paramref name="maximum"/>.
    /// </summary>
    public static async Task<(TimeSpan Took, double RequestsPerSecond)> SettleAsync(LoadTarget target, string body, int connections, TimeSpan minimum, TimeSpan maximum)
    {
        var payload = Encoding.UTF8.GetBytes(target.BodyOf?.Invoke(body) ?? body);
        var watch = Stopwatch.StartNew();
        var perSecond = new List<double>();
        while (true)
        {
            var window = Stopwatch.StartNew();
            var counts = new LatencyHistogram();
            await DriveAsync(target, payload, connections, TimeSpan.FromSeconds(1), counts);
            perSecond.Add(counts.Count / window.Elapsed.TotalSeconds);
            if (perSecond.Count < 2 * SettleWindows || watch.Elapsed < minimum)
            {
                continue;
            }

            var recent = perSecond.TakeLast(SettleWindows).Average();
            var before = perSecond.SkipLast(SettleWindows).TakeLast(SettleWindows).Average();
            if (recent <= before * 1.03 || watch.Elapsed >= maximum)
            {
                return (watch.Elapsed, recent);
            }
        }
    }

    /// <summary>Runs the closed loop for <paramref name="length"/>; returns the number of failed requests.</summary>
    private static async Task<long> DriveAsync(
        LoadTarget target, byte[] payload, int connections, TimeSpan length, LatencyHistogram? record, LatencyHistogram? firstBytes = null)
    {
        var errors = 0L;
        var end = Stopwatch.GetTimestamp() + (long)(length.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, connections).Select(async _ =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                var start = Stopwatch.GetTimestamp();
                var (ok, firstByte) = await target.SendOneAsync(payload);
                var micros = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                if (!ok)
                {
                    Interlocked.Increment(ref errors);
                }
                else
                {
                    record?.Record(micros);
                    firstBytes?.Record(firstByte);
                }
            }
        });
        await Task.WhenAll(workers);
        return errors;
    }
}
