using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tollgate.Metering;

/// <summary>What an import found: the prices it could read and the entries it left out, with why.</summary>
public sealed record PriceImport(IReadOnlyList<TokenPrice> Prices, IReadOnlyList<string> Skipped);

/// <summary>
/// Reads the LiteLLM price-list format (<c>model_prices_and_context_window.json</c>): an object of model name →
/// <c>input_cost_per_token</c>, <c>output_cost_per_token</c>, <c>cache_read_input_token_cost</c>,
/// <c>cache_creation_input_token_cost</c>, <c>output_cost_per_reasoning_token</c>, batch prices and
/// <c>…_above_Nk_tokens</c> long-context rates, all in USD per token. Prices become USD per million tokens, exactly.
/// The file has no dates, so every price takes the effective date the importer is given.
/// </summary>
public static partial class LiteLlmPriceImporter
{
    public static PriceImport Read(Stream json, DateOnly effectiveFrom)
    {
        using var document = JsonDocument.Parse(json);
        var prices = new List<TokenPrice>();
        var skipped = new List<string>();
        foreach (var entry in document.RootElement.EnumerateObject())
        {
            var value = entry.Value;
            if (entry.Name == "sample_spec" || value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var input = PerMillion(value, "input_cost_per_token");
            var output = PerMillion(value, "output_cost_per_token");
            if (input is null || output is null)
            {
                skipped.Add($"{entry.Name}: no per-token input and output price");
                continue;
            }

            prices.Add(new TokenPrice
            {
                Model = entry.Name,
                Provider = value.TryGetProperty("litellm_provider", out var provider) && provider.ValueKind == JsonValueKind.String ? provider.GetString() : null,
                EffectiveFrom = effectiveFrom,
                InputPerMillion = input.Value,
                OutputPerMillion = output.Value,
                CachedInputPerMillion = PerMillion(value, "cache_read_input_token_cost"),
                CacheWritePerMillion = PerMillion(value, "cache_creation_input_token_cost"),
                CacheWrite1hPerMillion = PerMillion(value, "cache_creation_input_token_cost_above_1hr"),
                ReasoningPerMillion = PerMillion(value, "output_cost_per_reasoning_token"),
                BatchInputPerMillion = PerMillion(value, "input_cost_per_token_batches"),
                BatchOutputPerMillion = PerMillion(value, "output_cost_per_token_batches"),
                MaxOutputTokens = value.TryGetProperty("max_output_tokens", out var max) && max.ValueKind == JsonValueKind.Number && max.TryGetInt32(out var m) ? m : null,
                LongContext = LongContext(value),
                ToolCallPrices = ToolCalls(value),
            });
        }

        return new PriceImport(prices, skipped);
    }

    /// <summary>Per-call tool prices LiteLLM lists with a model: file search (per 1,000 calls) and code interpreter (per session).</summary>
    private static Dictionary<string, decimal>? ToolCalls(JsonElement value)
    {
        var tools = new Dictionary<string, decimal>(StringComparer.Ordinal);
        if (value.TryGetProperty("file_search_cost_per_1k_calls", out var fileSearch) && fileSearch.ValueKind == JsonValueKind.Number && fileSearch.GetDecimal() > 0)
        {
            tools[BuiltInToolCalls.FileSearch] = fileSearch.GetDecimal() / 1000;
        }

        if (value.TryGetProperty("code_interpreter_cost_per_session", out var session) && session.ValueKind == JsonValueKind.Number && session.GetDecimal() > 0)
        {
            tools[BuiltInToolCalls.CodeInterpreter] = session.GetDecimal();
        }

        return tools.Count == 0 ? null : tools;
    }

    /// <summary>The lowest <c>…_above_Nk_tokens</c> threshold that has an input or output rate.</summary>
    private static LongContextPrice? LongContext(JsonElement value)
    {
        var thresholds = value.EnumerateObject()
            .Select(p => AboveThreshold().Match(p.Name))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .Distinct()
            .Select(k => (Suffix: $"_above_{k}k_tokens", Tokens: long.Parse(k, CultureInfo.InvariantCulture) * 1000))
            .OrderBy(t => t.Tokens);
        foreach (var (suffix, tokens) in thresholds)
        {
            var input = PerMillion(value, "input_cost_per_token" + suffix);
            var output = PerMillion(value, "output_cost_per_token" + suffix);
            if (input is not null || output is not null)
            {
                return new LongContextPrice(tokens, input, PerMillion(value, "cache_read_input_token_cost" + suffix),
                    PerMillion(value, "cache_creation_input_token_cost" + suffix), output);
            }
        }

        return null;
    }

    private static decimal? PerMillion(JsonElement value, string name) =>
        value.TryGetProperty(name, out var price) && price.ValueKind == JsonValueKind.Number && price.TryGetDecimal(out var perToken) && perToken >= 0
            ? Normalize(perToken * 1_000_000m)
            : null;

    /// <summary>Drops trailing zeros: 2.5000000 → 2.5.</summary>
    private static decimal Normalize(decimal value) => value / 1.000000000000000000000000000000000m;

    [GeneratedRegex(@"_above_(\d+)k_tokens$", RegexOptions.CultureInvariant)]
    private static partial Regex AboveThreshold();
}
