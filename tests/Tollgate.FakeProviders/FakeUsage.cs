namespace Tollgate.FakeProviders;

/// <summary>The usage a fake upstream reports, in OpenAI's terms (cached is inside prompt, reasoning inside completion).</summary>
public sealed record FakeUsage(int PromptTokens, int CompletionTokens, int CachedTokens = 0, int ReasoningTokens = 0);
