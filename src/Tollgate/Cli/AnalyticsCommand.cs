using System.CommandLine;
using Tollgate.Configuration;

namespace Tollgate.Cli;

/// <summary>
/// <c>tollgate analytics forecast|anomalies|unit-economics|top</c>: the running gateway's <c>/admin/analytics</c>
/// reports, printed as JSON or CSV.
/// </summary>
public static class AnalyticsCommand
{
    public static Command Build(Func<string?, GatewayConfig?> loadConfig)
    {
        var admin = new AdminApiClient(loadConfig);
        Option<string> Format() => new("--format") { Description = "json or csv.", DefaultValueFactory = _ => "json" };
        Option<string> Since(string fallback) => new("--since") { Description = "From: 90m, 24h, 7d, 4w or a date (UTC).", DefaultValueFactory = _ => fallback };
        Option<string?> Until() => new("--until") { Description = "To (exclusive), like --since; default now." };

        var asOf = new Option<string?>("--as-of") { Description = "Forecast as it stood at this date or time (default now)." };
        var forecastFormat = Format();
        var forecast = new Command("forecast", "Month-end forecast of all spend and of each monthly budget.") { asOf, forecastFormat };
        forecast.SetAction((parse, ct) => admin.PrintAsync(parse, Path("forecast", ("as_of", parse.GetValue(asOf)), ("format", parse.GetValue(forecastFormat))), ct));

        var anomaliesSince = Since("30d");
        var anomaliesFormat = Format();
        var anomalies = new Command("anomalies", "Spend anomalies found so far.") { anomaliesSince, anomaliesFormat };
        anomalies.SetAction((parse, ct) => admin.PrintAsync(parse, Path("anomalies", ("from", parse.GetValue(anomaliesSince)), ("format", parse.GetValue(anomaliesFormat))), ct));

        var by = new Option<string>("--by") { Description = "Group by feature (default), user, model, key…", DefaultValueFactory = _ => "feature" };
        var economicsSince = Since("30d");
        var economicsUntil = Until();
        var economicsFormat = Format();
        var economics = new Command("unit-economics", "Cost per request and per active user-day, revenue and margin (from POST /v1/outcomes).") { by, economicsSince, economicsUntil, economicsFormat };
        economics.SetAction((parse, ct) => admin.PrintAsync(parse, Path("unit-economics",
            ("group_by", parse.GetValue(by)), ("from", parse.GetValue(economicsSince)), ("to", parse.GetValue(economicsUntil)), ("format", parse.GetValue(economicsFormat))), ct));

        var limit = new Option<int>("--limit") { Description = "How many (1–1000).", DefaultValueFactory = _ => 20 };
        var topSince = Since("7d");
        var topUntil = Until();
        var topFormat = Format();
        var top = new Command("top", "The most costly requests, whole.") { limit, topSince, topUntil, topFormat };
        top.SetAction((parse, ct) => admin.PrintAsync(parse, Path("top-requests",
            ("limit", parse.GetValue(limit).ToString(System.Globalization.CultureInfo.InvariantCulture)), ("from", parse.GetValue(topSince)), ("to", parse.GetValue(topUntil)), ("format", parse.GetValue(topFormat))), ct));

        return admin.Attach(new Command("analytics", "Forecasts, anomalies, unit economics and top requests, from the running gateway.") { forecast, anomalies, economics, top });
    }

    private static string Path(string report, params (string Name, string? Value)[] parameters) =>
        $"/admin/analytics/{report}?" + string.Join('&', parameters.Where(p => p.Value is not null).Select(p => p.Name + "=" + Uri.EscapeDataString(p.Value!)));
}
