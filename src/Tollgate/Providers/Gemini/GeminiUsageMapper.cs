using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Providers.Gemini;

/// <summary>
/// The single place where Gemini's <c>usageMetadata</c> becomes canonical <see cref="Usage"/>.
/// <c>promptTokenCount</c> includes <c>cachedContentTokenCount</c>; tool-use prompt tokens are input too.
/// <c>candidatesTokenCount</c> excludes <c>thoughtsTokenCount</c>, yet thoughts are billed as output: the canonical
/// output is candidates + thoughts, with the thoughts as its reasoning subset.
/// </summary>
public static class GeminiUsageMapper
{
    public static Usage Map(JsonElement metadata)
    {
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            return Usage.None;
        }

        var prompt = Count(metadata, "promptTokenCount");
        var toolPrompt = Count(metadata, "toolUsePromptTokenCount");
        var candidates = Count(metadata, "candidatesTokenCount");
        var thoughts = Count(metadata, "thoughtsTokenCount");
        long? input = prompt is null && toolPrompt is null ? null : (prompt ?? 0) + (toolPrompt ?? 0);
        long? output = candidates is null && thoughts is null ? null : (candidates ?? 0) + (thoughts ?? 0);
        return new Usage(input, Count(metadata, "cachedContentTokenCount"), null, output, thoughts);
    }

    private static long? Count(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : null;
}
