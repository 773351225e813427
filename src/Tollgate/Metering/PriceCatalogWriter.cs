using System.Globalization;
using System.Text.Json;

namespace Tollgate.Metering;

/// <summary>Writes prices in Tollgate's catalogue format, the one <see cref="PriceCatalogReader"/> reads.</summary>
public static class PriceCatalogWriter
{
    public static void Write(Stream output, IEnumerable<TokenPrice> prices)
    {
        ArgumentNullException.ThrowIfNull(prices);
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteString("unit", "USD per 1M tokens");
        writer.WriteStartArray("prices");
        foreach (var p in prices.OrderBy(p => p.Model, StringComparer.Ordinal).ThenBy(p => p.EffectiveFrom))
        {
            writer.WriteStartObject();
            writer.WriteString("model", p.Model);
            if (p.Provider is not null)
            {
                writer.WriteString("provider", p.Provider);
            }

            if (p.Line is not null)
            {
                writer.WriteString("line", p.Line);
            }

            writer.WriteString("effective_from", p.EffectiveFrom.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            writer.WriteNumber("input", p.InputPerMillion);
            writer.WriteNumber("output", p.OutputPerMillion);
            Optional(writer, "cached_input", p.CachedInputPerMillion);
            Optional(writer, "cache_write", p.CacheWritePerMillion);
            Optional(writer, "cache_write_1h", p.CacheWrite1hPerMillion);
            Optional(writer, "reasoning", p.ReasoningPerMillion);
            Optional(writer, "batch_input", p.BatchInputPerMillion);
            Optional(writer, "batch_output", p.BatchOutputPerMillion);
            if (p.MaxOutputTokens is { } max)
            {
                writer.WriteNumber("max_output_tokens", max);
            }

            if (p.ToolCallPrices is { Count: > 0 } tools)
            {
                writer.WriteStartObject("tool_calls");
                foreach (var (tool, perCall) in tools.OrderBy(t => t.Key, StringComparer.Ordinal))
                {
                    writer.WriteNumber(tool, perCall);
                }

                writer.WriteEndObject();
            }

            if (p.LongContext is { } tier)
            {
                writer.WriteStartObject("long_context");
                writer.WriteNumber("above_prompt_tokens", tier.AbovePromptTokens);
                Rates(writer, tier.InputPerMillion, tier.CachedInputPerMillion, tier.CacheWritePerMillion, tier.OutputPerMillion);
                writer.WriteEndObject();
            }

            if (p.Peak is { } peak)
            {
                writer.WriteStartObject("peak");
                writer.WriteStartArray("hours_utc");
                foreach (var window in peak.WindowTexts)
                {
                    writer.WriteStringValue(window);
                }

                writer.WriteEndArray();
                writer.WriteBoolean("weekdays_only", peak.WeekdaysOnly);
                Rates(writer, peak.InputPerMillion, peak.CachedInputPerMillion, peak.CacheWritePerMillion, peak.OutputPerMillion);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The per-token rates a long-context tier or peak hours replace, each only when it is set.</summary>
    private static void Rates(Utf8JsonWriter writer, decimal? input, decimal? cachedInput, decimal? cacheWrite, decimal? output)
    {
        Optional(writer, "input", input);
        Optional(writer, "cached_input", cachedInput);
        Optional(writer, "cache_write", cacheWrite);
        Optional(writer, "output", output);
    }

    private static void Optional(Utf8JsonWriter writer, string name, decimal? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
    }
}
