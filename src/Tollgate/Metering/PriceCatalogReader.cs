using System.Globalization;
using System.Text.Json;

namespace Tollgate.Metering;

/// <summary>
/// Reads Tollgate's own catalogue format (USD per million tokens, one entry per model and effective date, with the
/// other names it goes by in <c>aliases</c>). Each built-in entry also records its <c>source</c> and when it was last
/// <c>checked</c> against a second list; those are for people and are not read here.
/// </summary>
public static class PriceCatalogReader
{
    private const string BuiltInResource = "Tollgate.Metering.prices.json";

    /// <summary>The catalogue compiled into the binary.</summary>
    public static PriceCatalog BuiltIn() => new(BuiltInPrices());

    public static IReadOnlyList<TokenPrice> BuiltInPrices()
    {
        using var stream = typeof(PriceCatalogReader).Assembly.GetManifestResourceStream(BuiltInResource)
            ?? throw new InvalidOperationException($"Embedded resource {BuiltInResource} is missing.");
        return Read(stream);
    }

    public static IReadOnlyList<TokenPrice> Read(Stream json)
    {
        using var document = JsonDocument.Parse(json);
        var prices = new List<TokenPrice>();
        foreach (var entry in document.RootElement.GetProperty("prices").EnumerateArray())
        {
            var price = new TokenPrice
            {
                Model = entry.GetProperty("model").GetString()!,
                Provider = entry.TryGetProperty("provider", out var provider) ? provider.GetString() : null,
                Line = entry.TryGetProperty("line", out var line) && line.ValueKind == JsonValueKind.String ? line.GetString() : null,
                EffectiveFrom = DateOnly.ParseExact(entry.GetProperty("effective_from").GetString()!, "yyyy-MM-dd", CultureInfo.InvariantCulture),
                InputPerMillion = entry.GetProperty("input").GetDecimal(),
                OutputPerMillion = entry.GetProperty("output").GetDecimal(),
                CachedInputPerMillion = OptionalDecimal(entry, "cached_input"),
                CacheWritePerMillion = OptionalDecimal(entry, "cache_write"),
                CacheWrite1hPerMillion = OptionalDecimal(entry, "cache_write_1h"),
                ReasoningPerMillion = OptionalDecimal(entry, "reasoning"),
                BatchInputPerMillion = OptionalDecimal(entry, "batch_input"),
                BatchOutputPerMillion = OptionalDecimal(entry, "batch_output"),
                MaxOutputTokens = entry.TryGetProperty("max_output_tokens", out var max) ? max.GetInt32() : null,
                ToolCallPrices = entry.TryGetProperty("tool_calls", out var tools) && tools.ValueKind == JsonValueKind.Object
                    ? tools.EnumerateObject().Where(t => t.Value.ValueKind == JsonValueKind.Number).ToDictionary(t => t.Name, t => t.Value.GetDecimal(), StringComparer.Ordinal)
                    : null,
                LongContext = entry.TryGetProperty("long_context", out var tier) && tier.ValueKind == JsonValueKind.Object
                    ? new LongContextPrice(
                        tier.GetProperty("above_prompt_tokens").GetInt64(),
                        OptionalDecimal(tier, "input"),
                        OptionalDecimal(tier, "cached_input"),
                        OptionalDecimal(tier, "cache_write"),
                        OptionalDecimal(tier, "output"))
                    : null,
                Peak = entry.TryGetProperty("peak", out var peak) && peak.ValueKind == JsonValueKind.Object ? ReadPeak(peak) : null,
            };
            prices.Add(price);

            // Other names the same model is called by (a host's id for it): one fact, several names.
            if (entry.TryGetProperty("aliases", out var aliases) && aliases.ValueKind == JsonValueKind.Array)
            {
                prices.AddRange(aliases.EnumerateArray().Select(alias => price with { Model = alias.GetString()! }));
            }
        }

        return prices;
    }

    /// <summary><c>"peak": { "hours_utc": ["01:00-04:00", …], "weekdays_only": true, "input": …, "cached_input": …, "output": … }</c>.</summary>
    private static PeakHours ReadPeak(JsonElement peak)
    {
        var windows = PeakHours.ParseWindows(
            peak.GetProperty("hours_utc").EnumerateArray().Select(w => w.GetString() ?? string.Empty),
            text => throw new FormatException($"'{text}' is not a window HH:mm-HH:mm"));
        return new PeakHours(
            windows,
            peak.TryGetProperty("weekdays_only", out var weekdays) && weekdays.ValueKind == JsonValueKind.True,
            OptionalDecimal(peak, "input"),
            OptionalDecimal(peak, "cached_input"),
            OptionalDecimal(peak, "cache_write"),
            OptionalDecimal(peak, "output"));
    }

    private static decimal? OptionalDecimal(JsonElement entry, string name) =>
        entry.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDecimal() : null;
}
