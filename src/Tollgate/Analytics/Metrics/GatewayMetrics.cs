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
    private static readonly double[] StageBounds = [0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    /// <summary>The gateway's own stages of a forwarded request, in order; the provider's time is apart (upstream).</summary>
    public static readonly string[] Stages = ["admission", "journal", "reply"];
    private readonly Histogram[] _stages = [.. Stages.Select(_ => new Histogram(StageBounds))];

    private readonly ConcurrentDictionary<(string Alias, string Deployment, string Status), StrongBox<long>> _requests = new();
    private static readonly string[] TokenKinds = ["input", "cached_input", "cache_write", "output", "reasoning"];

    private readonly ConcurrentDictionary<string, DeploymentTotals> _deployments = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (Histogram Total, Histogram Upstream, Histogram Overhead)> _latency = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _cacheHits = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _rejections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Cache, string Outcome), StrongBox<long>> _cacheMisses = new();
    private readonly ConcurrentDictionary<string, DeploymentTotals> _cacheSaved = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DeploymentTotals> _cacheSpent = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Router, string Target), StrongBox<long>> _routed = new();
    private readonly ConcurrentDictionary<string, DeploymentTotals> _routingSaved = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DeploymentTotals> _batchSaved = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _semanticShared = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _semanticMarksShared = new(StringComparer.Ordinal);

    public IEnumerable<KeyValuePair<(string Alias, string Deployment, string Status), long>> Requests => _requests.Select(p => new KeyValuePair<(string, string, string), long>(p.Key, Volatile.Read(ref p.Value.Value)));

    public IEnumerable<KeyValuePair<(string Deployment, string Kind), long>> Tokens => _deployments.SelectMany(p => TokenKinds
        .Select((kind, i) => (Kind: kind, Count: Volatile.Read(ref p.Value.Tokens[i])))
        .Where(t => t.Count > 0)
        .Select(t => new KeyValuePair<(string, string), long>((p.Key, t.Kind), t.Count)));

    public IEnumerable<KeyValuePair<string, decimal>> CostUsd => _deployments.Where(p => p.Value.HasCost).Select(p => new KeyValuePair<string, decimal>(p.Key, p.Value.Cost));

    public IEnumerable<KeyValuePair<string, (Histogram Total, Histogram Upstream, Histogram Overhead)>> Latency => _latency;

    public IEnumerable<KeyValuePair<string, long>> CacheHits => _cacheHits.Select(p => new KeyValuePair<string, long>(p.Key, Volatile.Read(ref p.Value.Value)));

    /// <summary>Requests the response cache did not answer, by cache and why: <c>miss</c>, <c>bypass</c> (the client opted out), <c>store_error</c>.</summary>
    public IEnumerable<KeyValuePair<(string Cache, string Outcome), long>> CacheMisses => _cacheMisses.Select(p => new KeyValuePair<(string, string), long>(p.Key, Volatile.Read(ref p.Value.Value)));

    /// <summary>What the response cache's hits would have cost from the provider, by alias.</summary>
    public IEnumerable<KeyValuePair<string, decimal>> CacheSavedUsd => _cacheSaved.Select(p => new KeyValuePair<string, decimal>(p.Key, p.Value.Cost));

    /// <summary>What the response cache's own calls cost (<see cref="ResponseCacheWork"/>), by purpose: embedding, verification.</summary>
    public IEnumerable<KeyValuePair<string, decimal>> CacheSpentUsd => _cacheSpent.Select(p => new KeyValuePair<string, decimal>(p.Key, p.Value.Cost));

    /// <summary>Requests a router sent, by router (the alias called) and target.</summary>
    public IEnumerable<KeyValuePair<(string Router, string Target), long>> Routed => _routed.Select(p => new KeyValuePair<(string, string), long>(p.Key, Volatile.Read(ref p.Value.Value)));

    /// <summary>What routing saved against each router's reference target.</summary>
    /// <summary>What batching saved, by alias: batch lines' cost at realtime prices less their cost at batch prices.</summary>
    public IEnumerable<KeyValuePair<string, decimal>> BatchSavedUsd => _batchSaved.Select(p => new KeyValuePair<string, decimal>(p.Key, p.Value.Cost));

    public IEnumerable<KeyValuePair<string, decimal>> RoutingSavedUsd => _routingSaved.Select(p => new KeyValuePair<string, decimal>(p.Key, p.Value.Cost));

    public IEnumerable<KeyValuePair<string, long>> Rejections => _rejections.Select(p => new KeyValuePair<string, long>(p.Key, Volatile.Read(ref p.Value.Value)));

    /// <summary>A usage record was written: one request, its tokens and its cost.</summary>
    public void Recorded(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        Increment(_requests, (record.Alias, record.Deployment, record.Status), 1);
        var usage = record.Usage;
        var totals = _deployments.GetOrAdd(record.Deployment, _ => new DeploymentTotals());
        totals.AddTokens(0, usage.InputTokens);
        totals.AddTokens(1, usage.CachedInputTokens);
        totals.AddTokens(2, usage.CacheWriteTokens);
        totals.AddTokens(3, usage.OutputTokens);
        totals.AddTokens(4, usage.ReasoningTokens);
        if (record.Cost.Total is { } cost)
        {
            totals.AddCost(cost);
        }

        if (record.ResponseCacheHit is { } hit)
        {
            CacheHit(hit);
            _cacheSaved.GetOrAdd(record.Alias, _ => new DeploymentTotals()).AddCost(record.ResponseCacheSavedUsd ?? 0);
        }

        if (record.RouteTarget is { } target)
        {
            Interlocked.Increment(ref _routed.GetOrAdd((record.Alias, target), _ => new StrongBox<long>()).Value);
            if (record.RoutingSavedUsd is { } routingSaved)
            {
                _routingSaved.GetOrAdd(record.Alias, _ => new DeploymentTotals()).AddCost(routingSaved);
            }
        }

        if (record.BatchSavedUsd is { } batchSaved)
        {
            _batchSaved.GetOrAdd(record.Alias, _ => new DeploymentTotals()).AddCost(batchSaved);
        }

        if (record.Attribution.Tags.TryGetValue(ResponseCacheWork.Tag, out var purpose) && record.Cost.Total is { } spent)
        {
            _cacheSpent.GetOrAdd(purpose, _ => new DeploymentTotals()).AddCost(spent);
        }
    }

    /// <summary>
    /// Semantic-cache questions exchanged with the other replicas (<c>store: shared</c>), by direction: <c>out</c>
    /// (handed over), <c>in</c> (taken in), <c>lost</c> (not handed over: the store failed or was unreachable too long).
    /// </summary>
    public IEnumerable<KeyValuePair<string, long>> SemanticQuestionsShared => _semanticShared.Select(p => new KeyValuePair<string, long>(p.Key, Volatile.Read(ref p.Value.Value)));

    /// <summary>Counts semantic-cache questions exchanged with the other replicas (see <see cref="SemanticQuestionsShared"/>).</summary>
    public void SemanticShared(string direction, long count) => Increment(_semanticShared, direction, count);

    /// <summary>
    /// The semantic cache's wrong marks exchanged with the other replicas, by direction: <c>out</c> (handed over) and
    /// <c>in</c> (taken in and raising what this replica knew).
    /// </summary>
    public IEnumerable<KeyValuePair<string, long>> SemanticWrongMarksShared => _semanticMarksShared.Select(p => new KeyValuePair<string, long>(p.Key, Volatile.Read(ref p.Value.Value)));

    /// <summary>Counts wrong marks exchanged with the other replicas (see <see cref="SemanticWrongMarksShared"/>).</summary>
    public void SemanticMarksShared(string direction, long count) => Increment(_semanticMarksShared, direction, count);

    /// <summary>A request the response cache did not answer, and why.</summary>
    public void CacheMiss(string cache, string outcome) => Increment(_cacheMisses, (cache, outcome), 1);

    /// <summary>A request that reached a deployment finished: its whole time, the part spent waiting on the provider, and the rest.</summary>
    /// <summary>
    /// A forwarded request's times: the whole, the provider's, and the gateway's own split in stages — admission (from
    /// the request's arrival to the first provider call: authentication, parsing, attribution, policy, routing, cache
    /// look-up, limits, budgets), journal (waiting for the record to be journaled before answering; null for a stream,
    /// whose record is journaled inside the relay, in the provider's time) and reply (the rest: reading usage, pricing,
    /// writing the answer).
    /// </summary>
    public void Timed(string deployment, TimeSpan total, TimeSpan upstream, TimeSpan admission, TimeSpan? journal)
    {
        var histograms = _latency.GetOrAdd(deployment, _ => (new Histogram(LatencyBounds), new Histogram(LatencyBounds), new Histogram(OverheadBounds)));
        histograms.Total.Observe(total.TotalSeconds);
        histograms.Upstream.Observe(upstream.TotalSeconds);
        var overhead = Math.Max(0, (total - upstream).TotalSeconds);
        histograms.Overhead.Observe(overhead);
        _stages[0].Observe(admission.TotalSeconds);
        if (journal is { } wait)
        {
            _stages[1].Observe(wait.TotalSeconds);
        }

        _stages[2].Observe(Math.Max(0, overhead - admission.TotalSeconds - (journal ?? TimeSpan.Zero).TotalSeconds));
    }

    /// <summary>The stage histograms, in the order of <see cref="Stages"/>.</summary>
    public IReadOnlyList<Histogram> StageTimes => _stages;

    /// <summary>A request answered from a cache (an idempotent replay, or the response cache) without calling a provider.</summary>
    public void CacheHit(string cache) => Increment(_cacheHits, cache, 1);

    /// <summary>The gateway refused a request before any provider call, for the reason of its error code.</summary>
    public void Rejected(string reason) => Increment(_rejections, reason, 1);

    private static void Increment<TKey>(ConcurrentDictionary<TKey, StrongBox<long>> counters, TKey key, long by)
        where TKey : notnull => Interlocked.Add(ref counters.GetOrAdd(key, _ => new StrongBox<long>()).Value, by);

    /// <summary>One deployment's tokens by kind (in the order of <see cref="TokenKinds"/>) and its exact decimal cost (under a lock: decimal has no atomic add).</summary>
    private sealed class DeploymentTotals
    {
        private readonly Lock _gate = new();
        private decimal _cost;

        public long[] Tokens { get; } = new long[TokenKinds.Length];

        public bool HasCost { get; private set; }

        public decimal Cost
        {
            get
            {
                lock (_gate)
                {
                    return _cost;
                }
            }
        }

        public void AddTokens(int kind, long? tokens)
        {
            if (tokens is > 0)
            {
                Interlocked.Add(ref Tokens[kind], tokens.Value);
            }
        }

        public void AddCost(decimal value)
        {
            lock (_gate)
            {
                _cost += value;
                HasCost = true;
            }
        }
    }
}
