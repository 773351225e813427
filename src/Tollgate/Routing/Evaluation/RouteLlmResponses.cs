using System.Text.Json;
using Sylvan.Data.Csv;

namespace Tollgate.Routing.Evaluation;

/// <summary>
/// Reads RouteLLM's per-prompt correctness files (<c>mmlu_responses/*.csv</c>: a <c>prompt</c> column, then one column per
/// model, cheap first, holding True/False), one group per file; prompts listed in an exclusion file (RouteLLM's
/// <c>mmlu_contaminated_prompts.jsonl</c>, <c>{"train_prompt": …}</c> per line) are left out.
/// </summary>
public static class RouteLlmResponses
{
    /// <summary>The labelled prompts; <see cref="FormatException"/> naming the file and row that is not as described.</summary>
    public static IReadOnlyList<LabelledPrompt> Read(string directory, string? excludeFile)
    {
        var excluded = new HashSet<string>(StringComparer.Ordinal);
        if (excludeFile is not null)
        {
            var line = 0;
            foreach (var text in File.ReadLines(excludeFile))
            {
                line++;
                if (text.Length == 0)
                {
                    continue;
                }

                try
                {
                    using var entry = JsonDocument.Parse(text);
                    excluded.Add(entry.RootElement.GetProperty("train_prompt").GetString() ?? throw new FormatException("'train_prompt' is null."));
                }
                catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    throw new FormatException($"{excludeFile}, line {line}: not {{\"train_prompt\": string}} ({ex.Message})", ex);
                }
            }
        }

        var prompts = new List<LabelledPrompt>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.csv").Order(StringComparer.Ordinal))
        {
            var group = Path.GetFileNameWithoutExtension(file);
            using var csv = CsvDataReader.Create(file);
            if (csv.FieldCount < 3)
            {
                throw new FormatException($"{file}: expected a prompt column and two True/False columns, found {csv.FieldCount} column(s).");
            }

            var row = 1;
            while (csv.Read())
            {
                row++;
                var prompt = csv.GetString(0);
                if (!excluded.Contains(prompt))
                {
                    prompts.Add(new LabelledPrompt(prompt, Truth(csv.GetString(1), file, row), Truth(csv.GetString(2), file, row), group));
                }
            }
        }

        return prompts;
    }

    private static bool Truth(string? value, string file, int row) =>
        string.Equals(value, "True", StringComparison.OrdinalIgnoreCase) ? true
        : string.Equals(value, "False", StringComparison.OrdinalIgnoreCase) ? false
        : throw new FormatException($"{file}, row {row}: '{value}' is not True or False.");
}
