using System.Text.Json;

namespace Tollgate.Metering;

/// <summary>
/// The built-in tools a provider bills per call, counted from a Responses API answer's <c>output</c> items and priced
/// from the catalogue: <c>web_search_call</c> items as <c>web_search</c> (as <c>web_search_preview</c> when the request
/// offered only that tool, which OpenAI prices apart), <c>file_search_call</c> items as <c>file_search</c>, and
/// <c>code_interpreter_call</c> items as <c>code_interpreter</c> once per container (OpenAI bills containers, not calls).
/// Function, MCP and custom tool calls are the model's tokens only and are not counted.
/// </summary>
public static class BuiltInToolCalls
{
    public const string WebSearch = "web_search";
    public const string WebSearchPreview = "web_search_preview";
    public const string FileSearch = "file_search";
    public const string CodeInterpreter = "code_interpreter";

    private static readonly IReadOnlyDictionary<string, int> NoCalls = new Dictionary<string, int>();

    /// <summary>The tool types of a request that are billed per call (built-in tools), by the kind they are counted as.</summary>
    public static IReadOnlyList<string> Offered(JsonElement requestBody)
    {
        if (requestBody.ValueKind != JsonValueKind.Object || !requestBody.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var kinds = new List<string>();
        foreach (var tool in tools.EnumerateArray())
        {
            var kind = tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                ? KindOf(type.GetString()!)
                : null;
            if (kind is not null && !kinds.Contains(kind))
            {
                kinds.Add(kind);
            }
        }

        return kinds;
    }

    /// <summary>The kind an OpenAI Responses tool type is billed as, or null for a tool that is not billed per call (or not OpenAI's).</summary>
    public static string? KindOf(string toolType) => toolType switch
    {
        "web_search" or "web_search_2025_08_26" => WebSearch,
        "web_search_preview" or "web_search_preview_2025_03_11" => WebSearchPreview,
        "file_search" => FileSearch,
        "code_interpreter" => CodeInterpreter,
        _ => null,
    };

    /// <summary>The billed tool calls of a Responses <c>response</c> object, or null when it made none.</summary>
    public static IReadOnlyDictionary<string, int>? Count(JsonElement response)
    {
        if (response.ValueKind != JsonValueKind.Object || !response.TryGetProperty("output", out var output) || output.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var containers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in output.EnumerateArray())
        {
            var type = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            switch (type)
            {
                case "web_search_call":
                    counts[WebSearch] = counts.GetValueOrDefault(WebSearch) + 1;
                    break;
                case "file_search_call":
                    counts[FileSearch] = counts.GetValueOrDefault(FileSearch) + 1;
                    break;
                case "code_interpreter_call":
                    var container = item.TryGetProperty("container_id", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "call:" + containers.Count;
                    if (containers.Add(container))
                    {
                        counts[CodeInterpreter] = counts.GetValueOrDefault(CodeInterpreter) + 1;
                    }

                    break;
            }
        }

        return counts.Count == 0 ? null : counts;
    }

    /// <summary>
    /// <paramref name="counted"/> as billed for a request that offered <paramref name="offered"/>: web searches are
    /// <c>web_search_preview</c> calls when only the preview tool was offered.
    /// </summary>
    public static IReadOnlyDictionary<string, int>? AsBilled(IReadOnlyDictionary<string, int>? counted, IReadOnlyList<string> offered)
    {
        if (counted is null || !counted.TryGetValue(WebSearch, out var searches) || !offered.Contains(WebSearchPreview) || offered.Contains(WebSearch))
        {
            return counted;
        }

        var billed = new Dictionary<string, int>(counted, StringComparer.Ordinal);
        billed.Remove(WebSearch);
        billed[WebSearchPreview] = searches;
        return billed;
    }

    /// <summary>The calls as the ledger keeps them: <c>file_search=1;web_search=2</c> (sorted), or null for none.</summary>
    public static string? Format(IReadOnlyDictionary<string, int>? calls) =>
        calls is null || calls.Count == 0 ? null : string.Join(';', calls.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key + "=" + c.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>Reads <see cref="Format"/>'s text back; parts that are not <c>tool=count</c> are skipped.</summary>
    public static IReadOnlyDictionary<string, int>? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var calls = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var part in text.Split(';'))
        {
            var at = part.IndexOf('=', StringComparison.Ordinal);
            if (at > 0 && int.TryParse(part.AsSpan(at + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var count))
            {
                calls[part[..at]] = count;
            }
        }

        return calls.Count == 0 ? null : calls;
    }

    /// <summary>What the calls cost at <paramref name="price"/>'s tool rates, and the calls it has no rate for.</summary>
    public static (decimal Cost, IReadOnlyDictionary<string, int> Unpriced) Price(IReadOnlyDictionary<string, int>? calls, TokenPrice price)
    {
        ArgumentNullException.ThrowIfNull(price);
        if (calls is null || calls.Count == 0)
        {
            // Every request is priced here: the usual one, with no tool calls, allocates nothing.
            return (0, NoCalls);
        }

        var cost = 0m;
        var unpriced = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (tool, count) in calls)
        {
            if (price.ToolCallPrices?.TryGetValue(tool, out var perCall) == true)
            {
                cost += count * perCall;
            }
            else
            {
                unpriced[tool] = count;
            }
        }

        return (cost, unpriced);
    }
}
