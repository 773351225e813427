namespace Tollgate.Configuration;

/// <summary>
/// The provider names a deployment may use, the wire format each speaks and its default base URL. Every host here
/// except <c>mock</c>, <c>anthropic</c> and <c>gemini</c> speaks the OpenAI chat-completions format; a host with no
/// default must be given a base_url.
/// </summary>
public static class KnownProviders
{
    public const string Mock = "mock";
    public const string OpenAiCompatible = "openai-compatible";
    public const string Anthropic = "anthropic";
    public const string Azure = "azure";
    public const string Gemini = "gemini";

    /// <summary>The Azure OpenAI API version used when a deployment names none.</summary>
    public const string DefaultAzureApiVersion = "2024-10-21";

    public static bool IsAzure(string provider) => string.Equals(provider, Azure, StringComparison.OrdinalIgnoreCase);

    private static readonly Dictionary<string, string?> DefaultBaseUrls = new(StringComparer.OrdinalIgnoreCase)
    {
        ["openai"] = "https://api.openai.com/v1",
        ["anthropic"] = "https://api.anthropic.com",
        ["azure"] = null,
        ["gemini"] = "https://generativelanguage.googleapis.com",
        ["groq"] = "https://api.groq.com/openai/v1",
        ["deepseek"] = "https://api.deepseek.com/v1",
        ["together"] = "https://api.together.xyz/v1",
        ["openrouter"] = "https://openrouter.ai/api/v1",
        ["mistral"] = "https://api.mistral.ai/v1",
        ["fireworks"] = "https://api.fireworks.ai/inference/v1",
        ["xai"] = "https://api.x.ai/v1",
        ["cerebras"] = "https://api.cerebras.ai/v1",
        ["ollama"] = "http://127.0.0.1:11434/v1",
        ["lmstudio"] = "http://127.0.0.1:1234/v1",
        ["vllm"] = null,
        ["llamacpp"] = null,
    };

    /// <summary>LiteLLM's model prefixes mapped to Tollgate provider names.</summary>
    private static readonly Dictionary<string, string> LiteLlmPrefixes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["openai"] = "openai",
        ["anthropic"] = "anthropic",
        ["azure"] = "azure",
        ["gemini"] = "gemini",
        ["custom_openai"] = "openai",
        ["openai_like"] = "openai",
        ["groq"] = "groq",
        ["deepseek"] = "deepseek",
        ["together_ai"] = "together",
        ["openrouter"] = "openrouter",
        ["mistral"] = "mistral",
        ["fireworks_ai"] = "fireworks",
        ["xai"] = "xai",
        ["cerebras"] = "cerebras",
        ["ollama"] = "ollama",
        ["ollama_chat"] = "ollama",
        ["lm_studio"] = "lmstudio",
        ["hosted_vllm"] = "vllm",
        ["vllm"] = "vllm",
    };

    public static IReadOnlyCollection<string> Names { get; } = [.. DefaultBaseUrls.Keys, Mock];

    public static bool IsKnown(string provider) => DefaultBaseUrls.ContainsKey(provider) || IsMock(provider);

    public static bool IsMock(string provider) => string.Equals(provider, Mock, StringComparison.OrdinalIgnoreCase);

    /// <summary>The wire format (adapter) a provider speaks.</summary>
    public static string WireFormat(string provider) => provider.ToLowerInvariant() switch
    {
        Mock => Mock,
        Anthropic => Anthropic,
        Gemini => Gemini,
        _ => OpenAiCompatible,
    };

    public static string? DefaultBaseUrl(string provider) => DefaultBaseUrls.GetValueOrDefault(provider);

    public static bool TryFromLiteLlmPrefix(string prefix, out string provider) => LiteLlmPrefixes.TryGetValue(prefix, out provider!);
}
