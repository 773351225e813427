namespace Tollgate.Metering.Tokenization;

/// <summary>Prompt tokens of a request; <see cref="Exact"/> is false when any part was estimated.</summary>
public sealed record PromptTokenCount(long Tokens, bool Exact, string Method);
