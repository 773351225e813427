using System.Globalization;
using System.Text;
using System.Text.Json;
namespace Tollgate.Analytics;

/// <summary>
/// Writes spend rows as an aligned table, CSV or JSON, for <c>tollgate report</c> and the analytics API. Costs are
/// written exactly, never rounded in CSV or JSON. Rows split in time lead with their period.
/// </summary>
public static class SpendReportWriter
{
    public static IReadOnlyList<string> Formats { get; } = ["table", "csv", "json"];

    private static readonly string[] Headers = ["group", "requests", "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens", "cost_usd", "unpriced_requests", "estimated_requests", "cache_savings_usd", "response_cache_hits", "response_cache_saved_usd", "response_cache_spent_usd", "routing_saved_usd", "batch_saved_usd"];
    private static readonly string[] RepricedHeaders = ["repriced_cost_usd", "repriced_from_usd", "unrepriced_requests"];

    public static void Write(TextWriter output, IReadOnlyList<SpendRow> rows, string groupName, string format)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(rows);
        var repriced = rows.Any(r => r.RepricedCostUsd is not null);
        var periods = rows.Any(r => r.Period is not null);
        switch (format)
        {
            case "csv":
                output.WriteLine(string.Join(',', (periods ? ["period"] : Array.Empty<string>()).Concat(Headers.Concat(repriced ? RepricedHeaders : []).Select((h, i) => i == 0 ? CsvText.Cell(groupName) : h))));
                foreach (var row in rows)
                {
                    var cells = (periods ? [row.Period ?? string.Empty] : Array.Empty<string>()).Concat(Cells(row, exact: true).Select((c, i) => i == 0 ? CsvText.Cell(c) : c));
                    if (repriced)
                    {
                        cells = cells.Concat([Exact(row.RepricedCostUsd ?? 0), Exact(row.RepricedFromUsd), Number(row.UnrepricedRequests)]);
                    }

                    output.WriteLine(string.Join(',', cells));
                }

                break;
            case "json":
                using (var buffer = new MemoryStream())
                {
                    using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
                    {
                    writer.WriteStartObject();
                    writer.WriteString("group_by", groupName);
                    writer.WriteStartArray("rows");
                    foreach (var row in rows)
                    {
                        writer.WriteStartObject();
                        if (row.Period is not null)
                        {
                            writer.WriteString("period", row.Period);
                        }

                        writer.WriteString("group", row.Group);
                        writer.WriteNumber("requests", row.Requests);
                        writer.WriteNumber("input_tokens", row.InputTokens);
                        writer.WriteNumber("cached_input_tokens", row.CachedInputTokens);
                        writer.WriteNumber("cache_write_tokens", row.CacheWriteTokens);
                        writer.WriteNumber("output_tokens", row.OutputTokens);
                        writer.WriteNumber("reasoning_tokens", row.ReasoningTokens);
                        writer.WriteNumber("cost_usd", row.CostUsd);
                        writer.WriteNumber("unpriced_requests", row.UnpricedRequests);
                        writer.WriteNumber("estimated_requests", row.EstimatedRequests);
                        writer.WriteNumber("cache_savings_usd", row.CacheSavingsUsd);
                        writer.WriteNumber("response_cache_hits", row.ResponseCacheHits);
                        writer.WriteNumber("response_cache_saved_usd", row.ResponseCacheSavedUsd);
                        writer.WriteNumber("response_cache_spent_usd", row.ResponseCacheSpentUsd);
                        writer.WriteNumber("routing_saved_usd", row.RoutingSavedUsd);
                        writer.WriteNumber("batch_saved_usd", row.BatchSavedUsd);
                        if (row.RepricedCostUsd is { } repricedCost)
                        {
                            writer.WriteNumber("repriced_cost_usd", repricedCost);
                            writer.WriteNumber("repriced_from_usd", row.RepricedFromUsd);
                            writer.WriteNumber("unrepriced_requests", row.UnrepricedRequests);
                        }

                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                    writer.WriteEndObject();
                    }

                    output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
                }

                break;
            default:
                WriteTable(output, rows, groupName, repriced, periods);
                break;
        }
    }

    private static void WriteTable(TextWriter output, IReadOnlyList<SpendRow> rows, string groupName, bool repriced, bool periods)
    {
        string[] headers = [.. periods ? ["PERIOD"] : Array.Empty<string>(), groupName.ToUpperInvariant(), "REQUESTS", "INPUT", "CACHED", "CACHE WRITE", "OUTPUT", "REASONING", "COST (USD)", "UNPRICED", "ESTIMATED", "CACHE SAVED", "CACHE HITS", "HITS SAVED", "CACHE SPENT", "ROUTING SAVED", "BATCH SAVED",
            .. repriced ? (string[])["REPRICED (USD)", "CHANGE", "NOT REPRICED"] : []];
        var total = new SpendRow("TOTAL", rows.Sum(r => r.Requests), rows.Sum(r => r.InputTokens), rows.Sum(r => r.CachedInputTokens),
            rows.Sum(r => r.CacheWriteTokens), rows.Sum(r => r.OutputTokens), rows.Sum(r => r.ReasoningTokens), rows.Sum(r => r.CostUsd),
            rows.Sum(r => r.UnpricedRequests), rows.Sum(r => r.EstimatedRequests))
        {
            CacheSavingsUsd = rows.Sum(r => r.CacheSavingsUsd),
            ResponseCacheHits = rows.Sum(r => r.ResponseCacheHits),
            ResponseCacheSavedUsd = rows.Sum(r => r.ResponseCacheSavedUsd),
            ResponseCacheSpentUsd = rows.Sum(r => r.ResponseCacheSpentUsd),
            RoutingSavedUsd = rows.Sum(r => r.RoutingSavedUsd),
            BatchSavedUsd = rows.Sum(r => r.BatchSavedUsd),
            RepricedCostUsd = repriced ? rows.Sum(r => r.RepricedCostUsd ?? 0) : null,
            RepricedFromUsd = rows.Sum(r => r.RepricedFromUsd),
            UnrepricedRequests = rows.Sum(r => r.UnrepricedRequests),
        };
        string[] TableCells(SpendRow r) =>
            [.. periods ? [r.Period ?? string.Empty] : Array.Empty<string>(), .. Cells(r, exact: false), .. repriced ? RepricedCells(r) : []];
        var table = rows.Select(TableCells).ToList();
        var totalCells = TableCells(total);
        var widths = headers.Select((h, i) => Math.Max(h.Length, table.Concat([totalCells]).Max(c => c[i].Length))).ToArray();
        var labels = periods ? 2 : 1;
        var line = new StringBuilder();
        void Row(string[] cells)
        {
            line.Clear();
            for (var i = 0; i < cells.Length; i++)
            {
                line.Append(i == 0 ? string.Empty : "  ").Append(i < labels ? cells[i].PadRight(widths[i]) : cells[i].PadLeft(widths[i]));
            }

            output.WriteLine(line.ToString().TrimEnd());
        }

        Row(headers);
        foreach (var cells in table)
        {
            Row(cells);
        }

        Row([.. widths.Select(w => new string('-', w))]);
        Row(totalCells);
        if (repriced && total.Requests > 0 && total.UnrepricedRequests == total.Requests)
        {
            output.WriteLine("Nothing was repriced: the prices given have none of these records' models (or the records have no recorded cost).");
        }
    }

    /// <summary>The repriced cost and its change against what the same (repriced) requests cost as recorded.</summary>
    private static string[] RepricedCells(SpendRow r)
    {
        if (r.UnrepricedRequests == r.Requests)
        {
            return ["-", "-", Number(r.UnrepricedRequests)];
        }

        var repriced = r.RepricedCostUsd ?? 0;
        var change = r.RepricedFromUsd == 0 ? "-" : ((repriced - r.RepricedFromUsd) / r.RepricedFromUsd).ToString("+0.0%;-0.0%;0.0%", CultureInfo.InvariantCulture);
        return [Money(repriced), change, Number(r.UnrepricedRequests)];
    }

    private static string Exact(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static string[] Cells(SpendRow r, bool exact) =>
    [
        r.Group,
        Number(r.Requests), Number(r.InputTokens), Number(r.CachedInputTokens), Number(r.CacheWriteTokens),
        Number(r.OutputTokens), Number(r.ReasoningTokens),
        exact ? r.CostUsd.ToString(CultureInfo.InvariantCulture) : Money(r.CostUsd),
        Number(r.UnpricedRequests), Number(r.EstimatedRequests),
        exact ? r.CacheSavingsUsd.ToString(CultureInfo.InvariantCulture) : Money(r.CacheSavingsUsd),
        Number(r.ResponseCacheHits),
        exact ? r.ResponseCacheSavedUsd.ToString(CultureInfo.InvariantCulture) : Money(r.ResponseCacheSavedUsd),
        exact ? r.ResponseCacheSpentUsd.ToString(CultureInfo.InvariantCulture) : Money(r.ResponseCacheSpentUsd),
        exact ? r.RoutingSavedUsd.ToString(CultureInfo.InvariantCulture) : Money(r.RoutingSavedUsd),
        exact ? r.BatchSavedUsd.ToString(CultureInfo.InvariantCulture) : Money(r.BatchSavedUsd),
    ];

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Cents always, and down to a hundred-millionth of a dollar so one cheap request does not read as zero.</summary>
    private static string Money(decimal value) => value.ToString("0.00######", CultureInfo.InvariantCulture);

}
