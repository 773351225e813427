using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Ledger.Journal;

/// <summary>
/// One usage record as one line of JSON, and back. Money is written as decimal text, so a replayed record carries
/// exactly the cost that was computed when the request ran.
/// </summary>
public static class JournalCodec
{
    /// <summary>One writer per thread, reset for each record: records are written on the request path.</summary>
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public static void Write(UsageRecord record, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(record);
        var json = t_writer ??= new Utf8JsonWriter(output);
        json.Reset(output);
        json.WriteStartObject();
        json.WriteString("id"u8, record.Id);
        json.WriteNumber("ts"u8, record.Timestamp.ToUnixTimeMilliseconds());
        json.WriteNumber("latency_ms"u8, record.LatencyMs);
        WriteNumber(json, "ttfb_ms"u8, record.TimeToFirstByteMs);
        var who = record.Attribution;
        WriteString(json, "key_id"u8, who.KeyId);
        WriteString(json, "user"u8, who.User);
        WriteString(json, "session"u8, who.Session);
        WriteString(json, "cost_center"u8, who.CostCenter);
        WriteString(json, "feature"u8, who.Feature);
        WriteString(json, "project"u8, who.Project);
        WriteString(json, "env"u8, who.Env);
        json.WriteStartObject("tags"u8);
        foreach (var (name, value) in who.Tags)
        {
            json.WriteString(name, value);
        }

        json.WriteEndObject();
        json.WriteString("endpoint"u8, record.Endpoint);
        json.WriteString("alias"u8, record.Alias);
        json.WriteString("deployment"u8, record.Deployment);
        json.WriteString("provider"u8, record.Provider);
        json.WriteString("upstream_model"u8, record.UpstreamModel);
        json.WriteBoolean("stream"u8, record.Stream);
        json.WriteString("status"u8, record.Status);
        json.WriteNumber("http_status"u8, record.HttpStatus);
        json.WriteNumber("attempts"u8, record.Attempts);
        var usage = record.Usage;
        WriteNumber(json, "input"u8, usage.InputTokens);
        WriteNumber(json, "cached_input"u8, usage.CachedInputTokens);
        WriteNumber(json, "cache_write"u8, usage.CacheWriteTokens);
        WriteNumber(json, "cache_write_1h"u8, usage.CacheWrite1hTokens);
        WriteNumber(json, "output"u8, usage.OutputTokens);
        WriteNumber(json, "reasoning"u8, usage.ReasoningTokens);
        json.WriteBoolean("estimated"u8, usage.Estimated);
        WriteString(json, "tool_calls"u8, BuiltInToolCalls.Format(usage.ToolCalls));
        var cost = record.Cost;
        WriteMoney(json, "cost_input"u8, cost.Input);
        WriteMoney(json, "cost_cached_input"u8, cost.CachedInput);
        WriteMoney(json, "cost_cache_write"u8, cost.CacheWrite);
        WriteMoney(json, "cost_output"u8, cost.Output);
        WriteMoney(json, "cost_reasoning"u8, cost.Reasoning);
        WriteMoney(json, "cost_total"u8, cost.Total);
        json.WriteString("price_source"u8, record.PriceSource);
        WriteMoney(json, "cache_savings"u8, record.CacheSavingsUsd);
        WriteString(json, "response_cache"u8, record.ResponseCacheHit);
        WriteNumber(json, "response_cache_similarity"u8, record.ResponseCacheSimilarity);
        WriteMoney(json, "response_cache_saved"u8, record.ResponseCacheSavedUsd);
        WriteString(json, "route_target"u8, record.RouteTarget);
        WriteString(json, "route_reason"u8, record.RouteReason);
        WriteMoney(json, "route_reference_cost"u8, record.RouteReferenceCostUsd);
        WriteString(json, "batch_id"u8, record.BatchId);
        WriteMoney(json, "batch_realtime_cost"u8, record.RealtimeCostUsd);
        WriteNumber(json, "max_output"u8, record.MaxOutputTokens);
        WriteString(json, "prefix_hash"u8, record.PromptPrefixHash);
        WriteNumber(json, "prefix_tokens"u8, record.PromptPrefixTokens);
        WriteString(json, "request_hash"u8, record.RequestHash);
        WriteString(json, "question_hash"u8, record.QuestionHash);
        WriteString(json, "upstream_request_id"u8, record.UpstreamRequestId);
        if (record.PromptFacts is { } facts)
        {
            json.WriteNumber("prompt_chars"u8, facts.Characters);
            json.WriteNumber("prompt_shape"u8, (int)facts.Shape);
            if (facts.Vector is { } vector)
            {
                json.WriteBase64String("prompt_vector"u8, vector.Encode());
            }
        }

        WriteString(json, "error"u8, record.Error);
        json.WriteEndObject();
        json.Flush();

        output.Write("\n"u8);
    }

    /// <summary>The record on one journal line; null for a line that is not a whole record (a write torn by a crash).</summary>
    public static UsageRecord? Read(ReadOnlyMemory<byte> line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var tag in root.GetProperty("tags").EnumerateObject())
            {
                tags[tag.Name] = tag.Value.GetString() ?? "";
            }

            return new UsageRecord
            {
                Id = root.GetProperty("id").GetString()!,
                Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("ts").GetInt64()),
                LatencyMs = root.GetProperty("latency_ms").GetDouble(),
                TimeToFirstByteMs = Number(root, "ttfb_ms") is { } ttfb ? ttfb.GetDouble() : null,
                Attribution = new Attribution(
                    Text(root, "key_id"), Text(root, "user"), Text(root, "session"), Text(root, "cost_center"),
                    Text(root, "feature"), Text(root, "project"), Text(root, "env"), tags),
                Endpoint = root.GetProperty("endpoint").GetString()!,
                Alias = root.GetProperty("alias").GetString()!,
                Deployment = root.GetProperty("deployment").GetString()!,
                Provider = root.GetProperty("provider").GetString()!,
                UpstreamModel = root.GetProperty("upstream_model").GetString()!,
                Stream = root.GetProperty("stream").GetBoolean(),
                Status = root.GetProperty("status").GetString()!,
                HttpStatus = root.GetProperty("http_status").GetInt32(),
                Attempts = root.GetProperty("attempts").GetInt32(),
                Usage = new Usage(Count(root, "input"), Count(root, "cached_input"), Count(root, "cache_write"), Count(root, "output"), Count(root, "reasoning"), root.GetProperty("estimated").GetBoolean())
                {
                    CacheWrite1hTokens = Count(root, "cache_write_1h"),
                    ToolCalls = BuiltInToolCalls.Parse(Text(root, "tool_calls")),
                },
                Cost = new CostBreakdown(
                    Money(root, "cost_input") ?? 0,
                    Money(root, "cost_cached_input") ?? 0,
                    Money(root, "cost_cache_write") ?? 0,
                    Money(root, "cost_output") ?? 0,
                    Money(root, "cost_reasoning") ?? 0,
                    Money(root, "cost_total")),
                PriceSource = root.GetProperty("price_source").GetString()!,
                CacheSavingsUsd = Money(root, "cache_savings"),
                ResponseCacheHit = Text(root, "response_cache"),
                ResponseCacheSimilarity = Number(root, "response_cache_similarity")?.GetDouble(),
                ResponseCacheSavedUsd = Money(root, "response_cache_saved"),
                RouteTarget = Text(root, "route_target"),
                RouteReason = Text(root, "route_reason"),
                RouteReferenceCostUsd = Money(root, "route_reference_cost"),
                BatchId = Text(root, "batch_id"),
                RealtimeCostUsd = Money(root, "batch_realtime_cost"),
                MaxOutputTokens = Count(root, "max_output"),
                PromptPrefixHash = Text(root, "prefix_hash"),
                PromptPrefixTokens = Count(root, "prefix_tokens"),
                RequestHash = Text(root, "request_hash"),
                QuestionHash = Text(root, "question_hash"),
                UpstreamRequestId = Text(root, "upstream_request_id"),
                PromptFacts = Count(root, "prompt_chars") is { } characters
                    ? new PromptFacts(
                        characters,
                        (PromptShape)(Count(root, "prompt_shape") ?? 0),
                        root.TryGetProperty("prompt_vector", out var vector) && vector.ValueKind == JsonValueKind.String ? PromptVector.Decode(vector.GetBytesFromBase64()) : null)
                    : null,
                Error = Text(root, "error"),
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    private static void WriteString(Utf8JsonWriter json, ReadOnlySpan<byte> name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, ReadOnlySpan<byte> name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, ReadOnlySpan<byte> name, double? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
    }

    private static void WriteMoney(Utf8JsonWriter json, ReadOnlySpan<byte> name, decimal? value)
    {
        if (value is { } money)
        {
            // Formatted straight to UTF-8 on the stack: a decimal has at most 29 digits, a sign and a point.
            Span<byte> text = stackalloc byte[40];
            money.TryFormat(text, out var written, default, CultureInfo.InvariantCulture);
            json.WriteString(name, text[..written]);
        }
    }

    private static JsonElement? Number(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value : null;

    private static long? Count(JsonElement root, string name) => Number(root, name)?.GetInt64();

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static decimal? Money(JsonElement root, string name) =>
        Text(root, name) is { } text ? decimal.Parse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture) : null;
}
