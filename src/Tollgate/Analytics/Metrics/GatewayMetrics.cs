using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Tollgate.Ledger;

namespace Tollgate.Analytics.Metrics;

/// <summary>
/// The gateway's counters since start, for <c>/metrics</c>: requests, tokens by kind and cost per deployment (from each
/// usage record), latency split into upstream time and the gateway's own overhead, cache hits and rejections by
/// reason. Label values come from configuration and the gateway's own error codes, so their number stays bounded.
/// </summary>
public sealed class GatewayMetrics
{
    private static readonly double[] LatencyBounds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
    private static readonly double[] OverheadBounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

    private readonly ConcurrentDictionary<(string Alias, string Deployment, string Status), StrongBox<long>> _requests = new();
    private readonly ConcurrentDictionary<(string Deployment, string Kind), StrongBox<long>> _tokens = new();
    private readonly ConcurrentDictionary<string, CostSum> _cost = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (Histogram Total, Histogram Upstream, Histogram Overhead)> _latency = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _cacheHits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _rejections = new(StringComparer.Ordinal);

    public IEnumerable<KeyValuePair<(string Alias, string Deployment, string Status), long>> Requests => _requests.Select(p => new KeyValuePair<(string, string, string), long>(p.Key, Volatile.Read(ref p.Value.Value)));

    public IEnumerable<KeyValuePair<(string Deployment, string Kind), long>> Tokens => _tokens.Select(p => new KeyValuePair<(string, string), long>(p.Key, Volatile.Read(ref p.Value.Value)));

    public IEnumerable<KeyValuePair<string, decimal>> CostUsd => _cost.Select(p => new KeyValuePair<string, decimal>(p.Key, p.Value.Read()));

    public IEnumerable<KeyValuePair<string, (Histogram Total, Histogram Upstream, Histogram Overhead)>> Latency => _latency;

    public IEnumerable<KeyValuePair<string, long>> CacheHits => _cacheHits.Select(p => new KeyValuePair<string, long>(p.Key, Volatile.Read(ref p.Value.Value)));

    public IEnumerable<KeyValuePair<string, long>> Rejections => _rejections.Select(p => new KeyValuePair<string, long>(p.Key, Volatile.Read(ref p.Value.Value)));

    /// <summary>A usage record was written: one request, its tokens and its cost.</summary>
    public void Recorded(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Increment(_requests, (record.Alias, record.Deployment, record.Status), 1);
        var usage = record.Usage;
        AddTokens(record.Deployment, "input", usage.InputTokens);
        AddTokens(record.Deployment, "cached_input", usage.CachedInputTokens);
        AddTokens(record.Deployment, "cache_write", usage.CacheWriteTokens);
        AddTokens(record.Deployment, "output", usage.OutputTokens);
        AddTokens(record.Deployment, "reasoning", usage.ReasoningTokens);
        if (record.Cost.Total is { } cost)
        {
            _cost.GetOrAdd(record.Deployment, _ => new CostSum()).Add(cost);
        }
    }

    /// <summary>A request that reached a deployment finished: its whole time, the part spent waiting on the provider, and the rest.</summary>
    public void Timed(string deployment, TimeSpan total, TimeSpan upstream)
    {
        var histograms = _latency.GetOrAdd(deployment, _ => (new Histogram(LatencyBounds), new Histogram(LatencyBounds), new Histogram(OverheadBounds)));
        histograms.Total.Observe(total.TotalSeconds);
        histograms.Upstream.Observe(upstream.TotalSeconds);
        histograms.Overhead.Observe(Math.Max(0, (total - upstream).TotalSeconds));
    }

    /// <summary>A request answered from a cache (today: an idempotent replay) without calling a provider.</summary>
    public void CacheHit(string cache) => Increment(_cacheHits, cache, 1);

    /// <summary>The gateway refused a request before any provider call, for the reason of its error code.</summary>
    public void Rejected(string reason) => Increment(_rejections, reason, 1);

    private void AddTokens(string deployment, string kind, long? tokens)
    {
        if (tokens is > 0)
        {
            Increment(_tokens, (deployment, kind), tokens.Value);
        }
    }

    private static void Increment<TKey>(ConcurrentDictionary<TKey, StrongBox<long>> counters, TKey key, long by)
        where TKey : notnull => Interlocked.Add(ref counters.GetOrAdd(key, _ => new StrongBox<long>()).Value, by);

    /// <summary>An exact decimal sum under a lock (decimal has no atomic add).</summary>
    private sealed class CostSum
    {
        private readonly Lock _gate = new();
        private decimal _sum;

        public void Add(decimal value)
        {
            lock (_gate)
            {
                _sum += value;
            }
        }

        public decimal Read()
        {
            lock (_gate)
            {
                return _sum;
            }
        }
    }
}
