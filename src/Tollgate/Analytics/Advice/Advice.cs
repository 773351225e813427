namespace Tollgate.Analytics.Advice;

/// <summary>
/// One recommendation of <c>tollgate advise</c>: what was found, on what (<see cref="Subject"/>: a feature, a model, a
/// prompt prefix), what to do, and what it is worth a month — a saving computed by repricing the real records, or, for
/// <see cref="AdviceKinds.MaxTokens"/>, the worst case reserved on budgets for output never produced, or, for
/// <see cref="AdviceKinds.NegativeMargin"/>, the loss. <see cref="Evidence"/> holds the figures it rests on.
/// </summary>
public sealed record Advice(string Kind, string Subject, string Finding, string Action, decimal MonthlyUsd, string Worth, IReadOnlyDictionary<string, object> Evidence);

/// <summary>The kinds of advice, and what each one's monthly figure means.</summary>
public static class AdviceKinds
{
    public const string PromptCaching = "prompt_caching";
    public const string Duplicates = "duplicates";
    public const string NearDuplicates = "near_duplicates";
    public const string Batch = "batch";
    public const string OffPeak = "off_peak";
    public const string MaxTokens = "max_tokens";
    public const string Concentration = "concentration";
    public const string NegativeMargin = "negative_margin";
    public const string ModelMove = "model_move";
    public const string IdleGpu = "idle_gpu";

    public const string Saving = "saving";
    public const string ReservationFreed = "reservation_freed";
    public const string Idle = "idle";
    public const string Loss = "loss";
    public const string Cost = "cost";
}
