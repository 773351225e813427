using System.Globalization;
using Tollgate.Policy.Alerts;

namespace Tollgate.Analytics.Anomalies;

/// <summary>The webhook alert for a newly found <see cref="SpendAnomaly"/>.</summary>
public sealed record SpendAnomalyAlert(SpendAnomaly Anomaly) : Alert
{
    public override object Payload() => new
    {
        type = "spend_anomaly",
        kind = Anomaly.Kind,
        dimension = Anomaly.Dimension,
        value = Anomaly.Value,
        period = Anomaly.Period,
        cost_usd = Anomaly.CostUsd,
        baseline_usd = Anomaly.BaselineUsd,
        ratio = Anomaly.Ratio,
        at = Anomaly.DetectedAt,
    };

    public override string Text() => string.Create(CultureInfo.InvariantCulture,
        $"Tollgate: {Anomaly.Dimension} '{Anomaly.Value}' cost ${Anomaly.CostUsd:0.00##} in {(Anomaly.Kind == SpendAnomaly.Daily ? "the day" : "the hour")} {Anomaly.Period}, {Anomaly.Ratio}× its usual ${Anomaly.BaselineUsd:0.00##}.");
}
