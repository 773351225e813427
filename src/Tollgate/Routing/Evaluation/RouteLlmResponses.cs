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
    public static IReadOnlyList<LabelledPrompt> Read(string directory, string? excludeFile)
    {
        var excluded = excludeFile is null
            ? new HashSet<string>(StringComparer.Ordinal)
            : File.ReadLines(excludeFile).Where(l => l.Length > 0)
                .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("train_prompt").GetString() ?? string.Empty)
                .ToHashSet(StringComparer.Ordinal);
        var prompts = new List<LabelledPrompt>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.csv").Order(StringComparer.Ordinal))
        {
            var group = Path.GetFileNameWithoutExtension(file);
            using var csv = CsvDataReader.Create(file);
            while (csv.Read())
            {
                var prompt = csv.GetString(0);
                if (!excluded.Contains(prompt))
                {
                    prompts.Add(new LabelledPrompt(prompt, Truth(csv.GetString(1)), Truth(csv.GetString(2)), group));
                }
            }
        }

        return prompts;
    }

    private static bool Truth(string? value) => string.Equals(value, "True", StringComparison.OrdinalIgnoreCase);
}
