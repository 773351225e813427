namespace Tollgate.Analytics.Reconciliation;

/// <summary>What a provider's own export says a day cost for one model (or one non-model item, such as web search).</summary>
public sealed record InvoiceLine(DateOnly Day, string Model, decimal CostUsd);
