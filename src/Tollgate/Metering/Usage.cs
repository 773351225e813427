namespace Tollgate.Metering;

/// <summary>
/// The one canonical shape of token usage. Every provider mapping produces this.
/// Null means "the provider did not say"; 0 means "the provider said zero".
/// <see cref="CachedInputTokens"/> and <see cref="CacheWriteTokens"/> are subsets of <see cref="InputTokens"/>;
/// <see cref="ReasoningTokens"/> is a subset of <see cref="OutputTokens"/>.
/// </summary>
public sealed record Usage(
    long? InputTokens,
    long? CachedInputTokens,
    long? CacheWriteTokens,
    long? OutputTokens,
    long? ReasoningTokens,
    bool Estimated = false)
{
    public static Usage None { get; } = new(null, null, null, null, null);

    /// <summary>
    /// Of <see cref="CacheWriteTokens"/>, those written with a one-hour lifetime (Anthropic bills them above the
    /// five-minute rate). Null when the provider does not distinguish.
    /// </summary>
    public long? CacheWrite1hTokens { get; init; }

    /// <summary>
    /// Built-in tool calls the provider bills per call (Responses API: <c>web_search</c>, <c>web_search_preview</c>,
    /// <c>file_search</c>, and <c>code_interpreter</c> by container), by tool; null when there were none.
    /// </summary>
    public IReadOnlyDictionary<string, int>? ToolCalls { get; init; }

    /// <summary>True when the provider reported at least the input or the output count.</summary>
    public bool IsReported => InputTokens is not null || OutputTokens is not null;

    /// <summary>Input tokens billed at the full input rate: input less cache reads and cache writes.</summary>
    public long UncachedInputTokens => Math.Max(0, (InputTokens ?? 0) - (CachedInputTokens ?? 0) - (CacheWriteTokens ?? 0));

    /// <summary>Output tokens billed at the plain output rate: output less reasoning.</summary>
    public long VisibleOutputTokens => Math.Max(0, (OutputTokens ?? 0) - (ReasoningTokens ?? 0));
}
