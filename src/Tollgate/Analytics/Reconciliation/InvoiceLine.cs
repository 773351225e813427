namespace Tollgate.Analytics.Reconciliation;

/// <summary>
/// What a provider's own export says a day cost for one model (or one non-model item, such as web search), and for
/// which of its projects (OpenAI) or workspaces (Anthropic) when the export is grouped by them.
/// </summary>
public sealed record InvoiceLine(DateOnly Day, string Model, decimal CostUsd, string? Project = null);
