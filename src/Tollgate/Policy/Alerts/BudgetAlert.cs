namespace Tollgate.Policy.Alerts;

/// <summary>A budget crossed one of its alert thresholds in its current period.</summary>
public sealed record BudgetAlert(string Budget, int ThresholdPercent, decimal SpentUsd, decimal LimitUsd, string Period, DateTimeOffset? ResetsAt, DateTimeOffset At);

/// <summary>Where alerts go: a Slack-compatible incoming webhook (<c>{"text": …}</c>) or generic JSON.</summary>
public sealed record AlertWebhook(Uri Url, bool Slack);
