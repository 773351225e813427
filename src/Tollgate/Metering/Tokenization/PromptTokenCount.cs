namespace Tollgate.Metering.Tokenization;

/// <summary>
/// Prompt tokens of a request: <see cref="Tokens"/> is the best estimate (exact for text of an OpenAI family;
/// <see cref="Exact"/> is false when any part was estimated); <see cref="UpperBound"/> is the most the provider can
/// bill for it, which budgets and TPM limits reserve; <see cref="Unbounded"/> names a part no bound can be set for.
/// </summary>
public sealed record PromptTokenCount(long Tokens, bool Exact, string Method)
{
    /// <summary>The most tokens the provider can bill for this prompt (at least <see cref="Tokens"/>).</summary>
    public long UpperBound { get; init; } = Tokens;

    /// <summary>A part whose tokens cannot be bounded before the call (a file, audio, a provider-billed tool), or null.</summary>
    public string? Unbounded { get; init; }
}
