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
    public static void Write(UsageRecord record, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(record);
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteString("id", record.Id);
            json.WriteNumber("ts", record.Timestamp.ToUnixTimeMilliseconds());
            json.WriteNumber("latency_ms", record.LatencyMs);
            WriteNumber(json, "ttfb_ms", record.TimeToFirstByteMs);
            var who = record.Attribution;
            WriteString(json, "key_id", who.KeyId);
            WriteString(json, "user", who.User);
            WriteString(json, "session", who.Session);
            WriteString(json, "cost_center", who.CostCenter);
            WriteString(json, "feature", who.Feature);
            WriteString(json, "project", who.Project);
            WriteString(json, "env", who.Env);
            json.WriteStartObject("tags");
            foreach (var (name, value) in who.Tags)
            {
                json.WriteString(name, value);
            }

            json.WriteEndObject();
            json.WriteString("endpoint", record.Endpoint);
            json.WriteString("alias", record.Alias);
            json.WriteString("deployment", record.Deployment);
            json.WriteString("provider", record.Provider);
            json.WriteString("upstream_model", record.UpstreamModel);
            json.WriteBoolean("stream", record.Stream);
            json.WriteString("status", record.Status);
            json.WriteNumber("http_status", record.HttpStatus);
            json.WriteNumber("attempts", record.Attempts);
            var usage = record.Usage;
            WriteNumber(json, "input", usage.InputTokens);
            WriteNumber(json, "cached_input", usage.CachedInputTokens);
            WriteNumber(json, "cache_write", usage.CacheWriteTokens);
            WriteNumber(json, "cache_write_1h", usage.CacheWrite1hTokens);
            WriteNumber(json, "output", usage.OutputTokens);
            WriteNumber(json, "reasoning", usage.ReasoningTokens);
            json.WriteBoolean("estimated", usage.Estimated);
            var cost = record.Cost;
            WriteMoney(json, "cost_input", cost.Input);
            WriteMoney(json, "cost_cached_input", cost.CachedInput);
            WriteMoney(json, "cost_cache_write", cost.CacheWrite);
            WriteMoney(json, "cost_output", cost.Output);
            WriteMoney(json, "cost_reasoning", cost.Reasoning);
            WriteMoney(json, "cost_total", cost.Total);
            json.WriteString("price_source", record.PriceSource);
            WriteMoney(json, "cache_savings", record.CacheSavingsUsd);
            WriteString(json, "error", record.Error);
            json.WriteEndObject();
        }

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
                Error = Text(root, "error"),
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    private static void WriteString(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
    }

    private static void WriteMoney(Utf8JsonWriter json, string name, decimal? value)
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
