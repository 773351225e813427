using System.Globalization;
using System.Text;
using Tollgate.Policy.Alerts;

namespace Tollgate.Analytics.Digest;

/// <summary>One group of a digest's top list: what it cost in the period and in the one before.</summary>
public sealed record DigestGroup(string Name, long Requests, decimal CostUsd, decimal PreviousCostUsd);

/// <summary>A monthly budget's month so far and where the month will end.</summary>
public sealed record DigestForecast(string Budget, decimal LimitUsd, decimal SpentUsd, decimal ForecastUsd, decimal LowUsd, decimal HighUsd);

/// <summary>The spend digest of a day or week: its total against the period before, the top groups, and each monthly budget's forecast.</summary>
public sealed record SpendDigestAlert(
    string Every, DateTimeOffset Start, DateTimeOffset End, long Requests, decimal CostUsd, decimal PreviousCostUsd, string GroupBy,
    IReadOnlyList<DigestGroup> Top, IReadOnlyList<DigestForecast> Forecasts) : Alert
{
    public override object Payload() => new
    {
        type = "spend_digest",
        every = Every,
        from = Start,
        to = End,
        requests = Requests,
        cost_usd = CostUsd,
        previous_cost_usd = PreviousCostUsd,
        group_by = GroupBy,
        top = Top.Select(g => new { group = g.Name, requests = g.Requests, cost_usd = g.CostUsd, previous_cost_usd = g.PreviousCostUsd }),
        forecasts = Forecasts.Select(f => new { budget = f.Budget, limit_usd = f.LimitUsd, spent_usd = f.SpentUsd, forecast_usd = f.ForecastUsd, low_usd = f.LowUsd, high_usd = f.HighUsd }),
    };

    public override string Text()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.Append(string.Create(c, $"Tollgate {Every} digest, {Start:yyyy-MM-dd} to {End.AddTicks(-1):yyyy-MM-dd}: ${CostUsd:0.00} over {Requests:N0} requests ({Change(CostUsd, PreviousCostUsd)} on the {(Every == "weekly" ? "week" : "day")} before)."));
        if (Top.Count > 0)
        {
            text.Append(string.Create(c, $"\nTop by {GroupBy}:"));
            foreach (var g in Top)
            {
                text.Append(string.Create(c, $"\n• {g.Name}: ${g.CostUsd:0.00} ({Change(g.CostUsd, g.PreviousCostUsd)})"));
            }
        }

        foreach (var f in Forecasts)
        {
            text.Append(string.Create(c, $"\nBudget '{f.Budget}': ${f.SpentUsd:0.00} spent, month-end forecast ${f.ForecastUsd:0.00} (${f.LowUsd:0.00}–${f.HighUsd:0.00}) of ${f.LimitUsd:0.00}."));
        }

        return text.ToString();
    }

    private static string Change(decimal now, decimal before) =>
        before == 0 ? (now == 0 ? "unchanged" : "new") : string.Create(CultureInfo.InvariantCulture, $"{(now - before) / before:+0%;-0%;0%}");
}

/// <summary>A monthly budget's month-end forecast reached its limit.</summary>
public sealed record ForecastAlert(DigestForecast Forecast, DateOnly Month, DateTimeOffset At) : Alert
{
    public override object Payload() => new
    {
        type = "budget_forecast",
        budget = Forecast.Budget,
        month = Month.ToString("yyyy-MM", CultureInfo.InvariantCulture),
        limit_usd = Forecast.LimitUsd,
        spent_usd = Forecast.SpentUsd,
        forecast_usd = Forecast.ForecastUsd,
        low_usd = Forecast.LowUsd,
        high_usd = Forecast.HighUsd,
        at = At,
    };

    public override string Text() => string.Create(CultureInfo.InvariantCulture,
        $"Tollgate: budget '{Forecast.Budget}' is forecast to end {Month:yyyy-MM} at ${Forecast.ForecastUsd:0.00} (${Forecast.LowUsd:0.00}–${Forecast.HighUsd:0.00}), over its ${Forecast.LimitUsd:0.00}; ${Forecast.SpentUsd:0.00} spent so far.");
}
