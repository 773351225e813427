using System.Globalization;
using System.Text.Json;

namespace Tollgate.Analytics.Reconciliation;

/// <summary>
/// Reads a provider's cost export into day × model lines (× project where the export is grouped by project or
/// workspace; amounts of the same day, model and project added up):
/// <list type="bullet">
/// <item>OpenAI's Costs API (<c>GET /v1/organization/costs?group_by=line_item</c>, one page or a JSON array of pages):
/// buckets with <c>start_time</c> (Unix seconds) and results with <c>amount.value</c> in dollars and <c>line_item</c>
/// such as <c>gpt-4o-mini-2024-07-18, input</c> (the model is what comes before the comma), and <c>project_id</c> when
/// also grouped by it (<c>group_by=project_id&amp;group_by=line_item</c>);</item>
/// <item>Anthropic's Cost Report (<c>GET /v1/organizations/cost_report?group_by[]=description</c>): buckets with
/// <c>starting_at</c> (RFC 3339) and results with <c>amount</c> in cents as a decimal string, <c>currency</c>, and
/// <c>model</c> (for token costs) or <c>cost_type</c> (web search, code execution), and <c>workspace_id</c> when also
/// grouped by it;</item>
/// <item>CSV with a header row holding <c>date</c>, <c>model</c> and <c>cost_usd</c> (any order, other columns ignored),
/// for anything exported by hand, and optionally <c>project</c>.</item>
/// </list>
/// Anything else is an <see cref="InvalidDataException"/> naming what was expected.
/// </summary>
public static class InvoiceExport
{
    public static IReadOnlyList<InvoiceLine> Read(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.TrimStart().StartsWith('{') || text.TrimStart().StartsWith('[') ? ReadJson(text) : ReadCsv(text);
        return [.. lines.GroupBy(l => (l.Day, l.Model, l.Project))
            .Select(g => new InvoiceLine(g.Key.Day, g.Key.Model, g.Sum(l => l.CostUsd), g.Key.Project))
            .OrderBy(l => l.Day).ThenBy(l => l.Model, StringComparer.Ordinal).ThenBy(l => l.Project, StringComparer.Ordinal)];
    }

    private static IEnumerable<InvoiceLine> ReadJson(string text)
    {
        using var document = JsonDocument.Parse(text);
        var pages = document.RootElement.ValueKind == JsonValueKind.Array ? [.. document.RootElement.EnumerateArray()] : new[] { document.RootElement };
        var lines = new List<InvoiceLine>();
        foreach (var page in pages)
        {
            if (page.ValueKind != JsonValueKind.Object || !page.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException("Expected OpenAI's Costs API page or Anthropic's Cost Report: an object with a 'data' array of buckets.");
            }

            foreach (var bucket in data.EnumerateArray())
            {
                var day = bucket.TryGetProperty("start_time", out var start) && start.ValueKind == JsonValueKind.Number
                    ? DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeSeconds(start.GetInt64()).UtcDateTime)
                    : bucket.TryGetProperty("starting_at", out var startingAt) && startingAt.ValueKind == JsonValueKind.String
                        ? DateOnly.FromDateTime(DateTimeOffset.Parse(startingAt.GetString()!, CultureInfo.InvariantCulture).UtcDateTime)
                        : throw new InvalidDataException("A bucket has neither 'start_time' (OpenAI) nor 'starting_at' (Anthropic).");
                if (!bucket.TryGetProperty("results", out var results) || results.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                foreach (var result in results.EnumerateArray())
                {
                    lines.Add(Line(day, result));
                }
            }
        }

        return lines;
    }

    private static InvoiceLine Line(DateOnly day, JsonElement result)
    {
        if (!result.TryGetProperty("amount", out var amount))
        {
            throw new InvalidDataException("A result has no 'amount'.");
        }

        if (amount.ValueKind == JsonValueKind.Object)
        {
            // OpenAI: dollars as a number, the model at the head of the line item.
            var currency = amount.TryGetProperty("currency", out var c) ? c.GetString() : "usd";
            if (!string.Equals(currency, "usd", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException($"A cost is in '{currency}'; only USD is reconciled.");
            }

            var lineItem = result.TryGetProperty("line_item", out var item) && item.ValueKind == JsonValueKind.String ? item.GetString()! : "(no line item: export with group_by=line_item)";
            var model = lineItem.Split(", ", 2)[0];
            return new InvoiceLine(day, model, amount.GetProperty("value").GetDecimal(), StringOf(result, "project_id"));
        }

        // Anthropic: cents as a decimal string.
        if (result.TryGetProperty("currency", out var anthropicCurrency) && !string.Equals(anthropicCurrency.GetString(), "USD", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"A cost is in '{anthropicCurrency.GetString()}'; only USD is reconciled.");
        }

        var cents = decimal.Parse(amount.GetString() ?? throw new InvalidDataException("An Anthropic 'amount' is not a string of cents."), NumberStyles.Number, CultureInfo.InvariantCulture);
        var name = result.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()!
            : result.TryGetProperty("cost_type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString()!
            : "(no model: export with group_by[]=description)";
        return new InvoiceLine(day, name, cents / 100m, StringOf(result, "workspace_id"));
    }

    /// <summary>A result's string field; null when absent, null or empty.</summary>
    private static string? StringOf(JsonElement result, string name) =>
        result.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private static IEnumerable<InvoiceLine> ReadCsv(string text)
    {
        var rows = text.Split('\n').Select(r => r.TrimEnd('\r')).Where(r => r.Length > 0).ToList();
        if (rows.Count == 0)
        {
            throw new InvalidDataException("The export is empty.");
        }

        var header = rows[0].Split(',').Select(h => h.Trim().Trim('"').ToLowerInvariant()).ToList();
        var (date, model, cost, project) = (header.IndexOf("date"), header.IndexOf("model"), header.IndexOf("cost_usd"), header.IndexOf("project"));
        if (date < 0 || model < 0 || cost < 0)
        {
            throw new InvalidDataException("A CSV export needs a header with 'date', 'model' and 'cost_usd'.");
        }

        return rows.Skip(1).Select((row, i) =>
        {
            var cells = row.Split(',').Select(c => c.Trim().Trim('"')).ToList();
            if (cells.Count <= Math.Max(date, Math.Max(model, cost))
                || !DateOnly.TryParse(cells[date], CultureInfo.InvariantCulture, out var day)
                || !decimal.TryParse(cells[cost], NumberStyles.Number, CultureInfo.InvariantCulture, out var usd))
            {
                throw new InvalidDataException($"CSV row {i + 2} is not a date, a model and a cost: '{row}'.");
            }

            return new InvoiceLine(day, cells[model], usd, project >= 0 && project < cells.Count && cells[project].Length > 0 ? cells[project] : null);
        }).ToList();
    }
}
