using Microsoft.AspNetCore.Http;
using Tollgate.Analytics.Metrics;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Policy.Budgets;

namespace Tollgate.Gateway.Endpoints;

/// <summary><c>GET /metrics</c>, behind the master key: the gateway's counters, latencies and budgets in Prometheus text format.</summary>
public static class MetricsEndpoint
{
    public static async Task HandleAsync(
        HttpContext context, Authenticator auth, GatewayMetrics metrics, BudgetGuard budgets, LedgerQueue ledger, Ledger.Rollups.RollupUpkeep rollups, Optimization.ResponseCaching.ResponseCache responseCache,
        Optimization.SemanticCaching.SemanticCache semanticCache)
    {
        ArgumentNullException.ThrowIfNull(semanticCache);
        ArgumentNullException.ThrowIfNull(responseCache);
        ArgumentNullException.ThrowIfNull(rollups);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(budgets);
        ArgumentNullException.ThrowIfNull(ledger);
        if (!auth.IsMaster(context.Request, out var error))
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, error!);
            return;
        }

        var text = new PrometheusTextWriter();
        text.Family("tollgate_requests_total", "counter", "Requests that reached a provider (one per usage record), by alias, deployment and status.");
        foreach (var ((alias, deployment, status), count) in metrics.Requests.OrderBy(p => p.Key))
        {
            text.Sample("tollgate_requests_total", [("alias", alias), ("deployment", deployment), ("status", status)], count);
        }

        text.Family("tollgate_tokens_total", "counter", "Tokens by kind as billed (cached input is part of input, reasoning part of output).");
        foreach (var ((deployment, kind), count) in metrics.Tokens.OrderBy(p => p.Key))
        {
            text.Sample("tollgate_tokens_total", [("deployment", deployment), ("kind", kind)], count);
        }

        text.Counter("tollgate_cost_usd_total", "Cost of the recorded requests in USD (the ledger holds the exact decimal amounts).", "deployment", metrics.CostUsd.Select(p => (p.Key, (double)p.Value)));

        var latency = metrics.Latency.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        foreach (var (name, help, pick) in new (string, string, Func<(Histogram Total, Histogram Upstream, Histogram Overhead), Histogram>)[]
        {
            ("tollgate_request_duration_seconds", "Whole request time in the gateway.", h => h.Total),
            ("tollgate_upstream_duration_seconds", "Time spent on the provider: calls, retry waits, and for streams the whole relay.", h => h.Upstream),
            ("tollgate_gateway_overhead_seconds", "Request time not spent on the provider: the gateway's own work.", h => h.Overhead),
        })
        {
            text.Family(name, "histogram", help);
            foreach (var (deployment, histograms) in latency)
            {
                text.Histogram(name, [("deployment", deployment)], pick(histograms));
            }
        }

        text.Family("tollgate_gateway_stage_seconds", "histogram", "The gateway's own time per forwarded request by stage: admission (arrival to the first provider call), journal (the record made durable before answering), reply (usage, pricing, writing the answer).");
        for (var i = 0; i < GatewayMetrics.Stages.Length; i++)
        {
            text.Histogram("tollgate_gateway_stage_seconds", [("stage", GatewayMetrics.Stages[i])], metrics.StageTimes[i]);
        }

        // Causes of a slow tail that live in the runtime, not in a stage: collections that pause every request, and a
        // thread pool whose queue grows when work waits for a thread.
        text.Family("tollgate_gc_pause_seconds_total", "counter", "Time the .NET garbage collector paused the process since start.");
        text.Sample("tollgate_gc_pause_seconds_total", [], GC.GetTotalPauseDuration().TotalSeconds);
        text.Family("tollgate_gc_collections_total", "counter", "Garbage collections since start, by generation.");
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            text.Sample("tollgate_gc_collections_total", [("generation", generation.ToString(System.Globalization.CultureInfo.InvariantCulture))], GC.CollectionCount(generation));
        }

        text.Family("tollgate_threadpool_queue_length", "gauge", "Work items waiting for a thread-pool thread now.");
        text.Sample("tollgate_threadpool_queue_length", [], ThreadPool.PendingWorkItemCount);

        text.Counter("tollgate_cache_hits_total", "Requests answered without a provider call, by cache.", "cache", metrics.CacheHits.Select(p => (p.Key, (double)p.Value)));

        text.Family("tollgate_cache_misses_total", "counter", "Requests the response cache did not answer, by outcome: miss, bypass (Cache-Control from the client), store_error.");
        foreach (var ((name, outcome), count) in metrics.CacheMisses.OrderBy(p => p.Key))
        {
            text.Sample("tollgate_cache_misses_total", [("cache", name), ("outcome", outcome)], count);
        }

        text.Counter("tollgate_cache_saved_usd_total", "What the response cache's hits would have cost from the provider, by alias.", "alias", metrics.CacheSavedUsd.Select(p => (p.Key, (double)p.Value)));

        text.Counter("tollgate_cache_spent_usd_total", "What the response cache's own calls cost, by purpose: embedding (the semantic cache's embeddings alias), verification (bounded mode).", "purpose", metrics.CacheSpentUsd.Select(p => (p.Key, (double)p.Value)));

        text.Family("tollgate_routed_requests_total", "counter", "Requests a router sent, by router and target alias.");
        foreach (var ((router, target), count) in metrics.Routed.OrderBy(p => p.Key))
        {
            text.Sample("tollgate_routed_requests_total", [("router", router), ("target", target)], count);
        }

        text.Counter("tollgate_routing_saved_usd_total", "What routing saved: routed requests' cost on the router's reference target less what they cost.", "router", metrics.RoutingSavedUsd.Select(p => (p.Key, (double)p.Value)));

        text.Counter("tollgate_batch_saved_usd_total", "What batching saved: batch lines' cost at realtime prices less their cost at batch prices, by alias.", "alias", metrics.BatchSavedUsd.Select(p => (p.Key, (double)p.Value)));

        // A store that cannot count (a shared one that is down) leaves the two gauges out rather than report zero.
        if (await responseCache.SizeAsync(context.RequestAborted) is var (entries, bytes))
        {
            text.Family("tollgate_cache_entries", "gauge", "Answers kept in the response cache.");
            text.Sample("tollgate_cache_entries", [], entries);
            text.Family("tollgate_cache_bytes", "gauge", "Bytes the kept answers count for against cache.exact.max_bytes.");
            text.Sample("tollgate_cache_bytes", [], bytes);
        }

        if (semanticCache.Settings.IsOn)
        {
            text.Family("tollgate_semantic_questions", "gauge", "Questions the semantic cache keeps on this replica.");
            text.Sample("tollgate_semantic_questions", [], semanticCache.Count);
        }

        text.Counter("tollgate_semantic_questions_shared_total", "Semantic-cache questions exchanged with the other replicas (store: shared), by direction: out, in, lost.", "direction", metrics.SemanticQuestionsShared.Select(p => (p.Key, (double)p.Value)));

        text.Counter("tollgate_semantic_wrong_marks_shared_total", "Semantic-cache wrong marks exchanged with the other replicas (store: shared), by direction: out, in.", "direction", metrics.SemanticWrongMarksShared.Select(p => (p.Key, (double)p.Value)));

        text.Counter("tollgate_rejections_total", "Requests refused before any provider call, by error code.", "reason", metrics.Rejections.Select(p => (p.Key, (double)p.Value)));

        var snapshot = budgets.Snapshot();
        foreach (var (name, help, value) in new (string, string, Func<(Budget Budget, decimal Spent, decimal Reserved, DateTimeOffset? ResetsAt), decimal>)[]
        {
            ("tollgate_budget_limit_usd", "Each budget's limit for its period.", b => b.Budget.LimitUsd),
            ("tollgate_budget_spent_usd", "Spent in the budget's current period (as of its last request).", b => b.Spent),
            ("tollgate_budget_remaining_usd", "Limit less spent and reserved (requests in flight).", b => b.Budget.LimitUsd - b.Spent - b.Reserved),
        })
        {
            text.Family(name, "gauge", help);
            foreach (var budget in snapshot)
            {
                text.Sample(name, [("budget", budget.Budget.Name), ("scope", budget.Budget.Scope), ("period", budget.Budget.Period.ToString().ToLowerInvariant())], (double)value(budget));
            }
        }

        text.Family("tollgate_ledger_queue_pending", "gauge", "Usage records journaled but not yet written to the ledger store.");
        text.Sample("tollgate_ledger_queue_pending", [], ledger.Pending);

        text.Family("tollgate_rollup_records_total", "counter", "Usage records rolled up into the hourly rollups reports read.");
        text.Sample("tollgate_rollup_records_total", [], rollups.Records);
        text.Family("tollgate_rollup_seconds_total", "counter", "Time the ledger writer spent keeping the rollups up to date (off the request path).");
        text.Sample("tollgate_rollup_seconds_total", [], rollups.Elapsed.TotalSeconds);

        context.Response.ContentType = PrometheusTextWriter.ContentType;
        await context.Response.WriteAsync(text.ToString(), context.RequestAborted);
    }
}
