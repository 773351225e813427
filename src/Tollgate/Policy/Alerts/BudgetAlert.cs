using System.Globalization;

namespace Tollgate.Policy.Alerts;

/// <summary>A budget crossed one of its alert thresholds in its current period.</summary>
public sealed record BudgetAlert(string Budget, int ThresholdPercent, decimal SpentUsd, decimal LimitUsd, string Period, DateTimeOffset? ResetsAt, DateTimeOffset At) : Alert
{
    public override object Payload() => new
    {
        type = "budget_threshold",
        budget = Budget,
        threshold_percent = ThresholdPercent,
        spent_usd = SpentUsd,
        limit_usd = LimitUsd,
        period = Period,
        resets_at = ResetsAt,
        at = At,
    };

    public override string Text()
    {
        var reset = ResetsAt is { } at ? string.Create(CultureInfo.InvariantCulture, $", resets {at.UtcDateTime:yyyy-MM-dd HH:mm} UTC.") : ".";
        return string.Create(CultureInfo.InvariantCulture,
            $"Tollgate: budget '{Budget}' has used {ThresholdPercent}% or more — ${SpentUsd:0.00####} of ${LimitUsd} ({Period}){reset}");
    }
}

/// <summary>Where alerts go: a Slack-compatible incoming webhook (<c>{"text": …}</c>) or generic JSON.</summary>
public sealed record AlertWebhook(Uri Url, bool Slack);
