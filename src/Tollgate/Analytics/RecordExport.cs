using System.Globalization;
using System.Text;
using System.Text.Json;
using Tollgate.Ledger;

namespace Tollgate.Analytics;

/// <summary>
/// Whole usage records for BI tools, as CSV (one header row, one row per record) or a JSON array, written as they are
/// read so an export of months of records never sits in memory. Money is exact decimal text; times are UTC ISO 8601.
/// Every token kind priced at its own rate has its column (<c>cache_write_1h_tokens</c> is the part of
/// <c>cache_write_tokens</c> written for an hour), so each cost column can be recomputed from the export and the prices.
/// </summary>
public static class RecordExport
{
    public static IReadOnlyList<string> Columns { get; } =
    [
        "id", "timestamp", "latency_ms", "ttfb_ms", "key_id", "user", "session", "cost_center", "feature", "project", "env", "tags",
        "endpoint", "alias", "deployment", "provider", "upstream_model", "stream", "status", "http_status", "attempts",
        "input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens", "reasoning_tokens", "usage_estimated", "tool_calls",
        "cost_input_usd", "cost_cached_input_usd", "cost_cache_write_usd", "cost_output_usd", "cost_reasoning_usd", "cost_total_usd",
        "cache_savings_usd", "response_cache", "response_cache_similarity", "response_cache_saved_usd",
        "route_target", "route_reason", "route_reference_cost_usd", "routing_saved_usd", "batch_id", "batch_realtime_cost_usd", "batch_saved_usd", "price_source", "error",
    ];

    public static async Task WriteCsvAsync(Stream output, IAsyncEnumerable<UsageRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), 64 * 1024, leaveOpen: true);
        await writer.WriteLineAsync(string.Join(',', Columns));
        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            await writer.WriteLineAsync(string.Join(',', Values(record).Select(v => v switch
            {
                null => string.Empty,
                string text => CsvText.Cell(text),
                bool flag => flag ? "true" : "false",
                IReadOnlyDictionary<string, string> tags => CsvText.Cell(string.Join(';', tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Key + "=" + t.Value))),
                IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                _ => CsvText.Cell(v.ToString()!),
            })));
        }
    }

    public static async Task WriteJsonAsync(Stream output, IAsyncEnumerable<UsageRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        await using var writer = new Utf8JsonWriter(output);
        writer.WriteStartArray();
        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in Columns.Zip(Values(record)))
            {
                switch (value)
                {
                    case null:
                        writer.WriteNull(name);
                        break;
                    case string text:
                        writer.WriteString(name, text);
                        break;
                    case bool flag:
                        writer.WriteBoolean(name, flag);
                        break;
                    case decimal money:
                        writer.WriteNumber(name, money);
                        break;
                    case double number:
                        writer.WriteNumber(name, number);
                        break;
                    case long count:
                        writer.WriteNumber(name, count);
                        break;
                    case int count:
                        writer.WriteNumber(name, count);
                        break;
                    case IReadOnlyDictionary<string, string> tags:
                        writer.WriteStartObject(name);
                        foreach (var (key, tag) in tags)
                        {
                            writer.WriteString(key, tag);
                        }

                        writer.WriteEndObject();
                        break;
                }
            }

            writer.WriteEndObject();
            if (writer.BytesPending > 32 * 1024)
            {
                await writer.FlushAsync(cancellationToken);
            }
        }

        writer.WriteEndArray();
        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>The record's values in the order of <see cref="Columns"/>; tags as a dictionary (CSV writes them <c>k=v;k2=v2</c>, booleans as true/false).</summary>
    private static object?[] Values(UsageRecord r) =>
    [
        r.Id, r.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture), r.LatencyMs, r.TimeToFirstByteMs,
        r.Attribution.KeyId, r.Attribution.User, r.Attribution.Session, r.Attribution.CostCenter, r.Attribution.Feature, r.Attribution.Project, r.Attribution.Env,
        r.Attribution.Tags,
        r.Endpoint, r.Alias, r.Deployment, r.Provider, r.UpstreamModel, r.Stream, r.Status, r.HttpStatus, r.Attempts,
        r.Usage.InputTokens, r.Usage.CachedInputTokens, r.Usage.CacheWriteTokens, r.Usage.CacheWrite1hTokens, r.Usage.OutputTokens, r.Usage.ReasoningTokens, r.Usage.Estimated, Metering.BuiltInToolCalls.Format(r.Usage.ToolCalls),
        r.Cost.Input, r.Cost.CachedInput, r.Cost.CacheWrite, r.Cost.Output, r.Cost.Reasoning, r.Cost.Total,
        r.CacheSavingsUsd, r.ResponseCacheHit, r.ResponseCacheSimilarity, r.ResponseCacheSavedUsd,
        r.RouteTarget, r.RouteReason, r.RouteReferenceCostUsd, r.RoutingSavedUsd, r.BatchId, r.RealtimeCostUsd, r.BatchSavedUsd, r.PriceSource, r.Error,
    ];

}
