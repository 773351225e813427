namespace Tollgate.Bench;

/// <summary>The gateways' one model in every bench: gpt-4o-mini at the fake OpenAI upstream.</summary>
internal static class BenchModels
{
    /// <summary>The <c>models:</c> block of a tollgate.yaml, at the left margin.</summary>
    public static string Yaml(Uri upstream) => $"""
        models:
          - alias: gpt-4o-mini
            provider: openai
            model: gpt-4o-mini
            base_url: {upstream}
            api_key: sk-upstream
        """;
}
