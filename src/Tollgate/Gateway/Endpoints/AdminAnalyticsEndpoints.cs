using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tollgate.Analytics;
using Tollgate.Analytics.Forecasting;
using Tollgate.Configuration;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// <c>/admin/analytics</c>, behind the master key: spend and tokens grouped by any dimension (per hour or day), the
/// most costly requests, and the whole record export — each as JSON or CSV. Times: <c>from</c>/<c>to</c> as a date,
/// a date-time (UTC) or a duration back from now (<c>7d</c>); by default the last 30 days.
/// </summary>
public static class AdminAnalyticsEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // The dashboard reads the same handlers under /ui/api, where the browser sends the page's credentials.
        foreach (var prefix in new[] { "/admin/analytics", Dashboard.DashboardEndpoints.ApiPrefix })
        {
            app.MapGet(prefix + "/spend", SpendAsync);
            app.MapGet(prefix + "/top-requests", TopRequestsAsync);
            app.MapGet(prefix + "/records", RecordsAsync);
            app.MapGet(prefix + "/forecast", ForecastAsync);
            app.MapGet(prefix + "/anomalies", AnomaliesAsync);
            app.MapGet(prefix + "/unit-economics", UnitEconomicsAsync);
            app.MapGet(prefix + "/advice", AdviceAsync);
        }

        app.MapPost("/admin/analytics/anomalies/check", CheckAnomaliesAsync);
        app.MapPost("/admin/analytics/digest", SendDigestAsync);
    }

    /// <summary>A checked analytics request: its time range and output format.</summary>
    private sealed record Range(DateTimeOffset From, DateTimeOffset To, string Format);

    private static async Task SpendAsync(HttpContext context, Authenticator auth, ILedgerStore ledger, GatewayConfig config, TimeProvider time)
    {
        if (await AdmitAsync(context, auth, time) is not { } range)
        {
            return;
        }

        var query = context.Request.Query;
        var groupBy = query["group_by"].ToString() is { Length: > 0 } g ? g : "model";
        if (SpendGrouping.Parse(groupBy) is not { } grouping)
        {
            await WriteErrorAsync(context, GatewayError.InvalidRequest($"'group_by' must be one of: {string.Join(", ", SpendGrouping.Names)}.", "invalid_value", "group_by"));
            return;
        }

        TimeBucket? interval = query["interval"].ToString() switch
        {
            "" or "none" => TimeBucket.None,
            "hour" => TimeBucket.Hour,
            "day" => TimeBucket.Day,
            _ => null,
        };
        if (interval is null)
        {
            await WriteErrorAsync(context, GatewayError.InvalidRequest("'interval' must be none, hour or day.", "invalid_value", "interval"));
            return;
        }

        var rows = await SpendReport.BuildAsync(ledger, new SpendQuery(grouping, range.From, range.To, interval.Value, config.TimeZone), context.RequestAborted);
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        SpendReportWriter.Write(text, rows, grouping.Name, range.Format);
        context.Response.ContentType = ContentType(range.Format);
        await context.Response.WriteAsync(text.ToString(), Encoding.UTF8, context.RequestAborted);
    }

    private static async Task TopRequestsAsync(HttpContext context, Authenticator auth, ILedgerStore ledger, TimeProvider time)
    {
        if (await AdmitAsync(context, auth, time) is not { } range)
        {
            return;
        }

        var limitText = context.Request.Query["limit"].ToString();
        var limit = 20;
        if (limitText.Length > 0 && (!int.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            await WriteErrorAsync(context, GatewayError.InvalidRequest("'limit' must be a whole number from 1 to 1000.", "invalid_value", "limit"));
            return;
        }

        var top = await TopRequests.FindAsync(ledger, range.From, range.To, limit, context.RequestAborted);
        await WriteRecordsAsync(context, range.Format, top.ToAsyncEnumerable());
    }

    private static async Task RecordsAsync(HttpContext context, Authenticator auth, ILedgerStore ledger, TimeProvider time)
    {
        if (await AdmitAsync(context, auth, time) is { } range)
        {
            await WriteRecordsAsync(context, range.Format, ledger.ReadAsync(range.From, range.To, context.RequestAborted));
        }
    }

    /// <summary>
    /// The month-end forecast of all spend and of each monthly budget, as of now or of <c>as_of</c> (to see what the
    /// forecast said on an earlier day). A budget is <c>over</c> when even the low end passes its limit, <c>at_risk</c>
    /// when the high end does.
    /// </summary>
    private static async Task ForecastAsync(HttpContext context, Authenticator auth, ILedgerStore ledger, GatewayConfig config, Policy.Budgets.BudgetGuard budgets, TimeProvider time)
    {
        if (!auth.IsMaster(context.Request, out var authError))
        {
            await WriteErrorAsync(context, authError!);
            return;
        }

        var asOf = time.GetUtcNow();
        if (context.Request.Query["as_of"].ToString() is { Length: > 0 } text && !SinceParser.TryParse(text, asOf, out asOf))
        {
            await WriteErrorAsync(context, GatewayError.InvalidRequest("'as_of' must be a date, a UTC date-time or a duration back from now.", "invalid_value", "as_of"));
            return;
        }

        var format = context.Request.Query["format"].ToString() is { Length: > 0 } f ? f : "json";
        if (format is not ("json" or "csv"))
        {
            await WriteErrorAsync(context, GatewayError.InvalidRequest("'format' must be json or csv.", "invalid_value", "format"));
            return;
        }

        var local = TimeZoneInfo.ConvertTime(asOf, config.TimeZone);
        var from = new DateTimeOffset(local.Year, local.Month, 1, 0, 0, 0, local.Offset).AddDays(-29);
        var until = asOf.AddTicks(1);
        var total = MonthEndForecast.Of(await CostSeries.ReadAsync(ledger, null, from, until, config.TimeZone, context.RequestAborted), asOf, config.TimeZone);
        var monthly = new List<(Policy.Budgets.Budget Budget, MonthEndForecast Forecast)>();
        foreach (var budget in budgets.Snapshot().Select(b => b.Budget).Where(b => b.Period == Policy.Budgets.BudgetPeriod.Monthly))
        {
            monthly.Add((budget, MonthEndForecast.Of(await CostSeries.ReadAsync(ledger, budget, from, until, config.TimeZone, context.RequestAborted), asOf, config.TimeZone)));
        }

        static decimal? Percent(decimal forecast, decimal limit) => limit == 0 ? null : decimal.Round(forecast / limit * 100, 1);
        static string Status(MonthEndForecast forecast, decimal limit) => forecast.LowUsd > limit ? "over" : forecast.HighUsd > limit ? "at_risk" : "under";
        if (format == "csv")
        {
            await WriteCsvAsync(context, ["budget", "scope", "value", "limit_usd", "spent_usd", "forecast_usd", "low_usd", "high_usd", "forecast_percent", "status"],
                [["(all spend)", "global", null, null, total.SpentUsd, total.ForecastUsd, total.LowUsd, total.HighUsd, null, null],
                 .. monthly.Select(m => new object?[] { m.Budget.Name, m.Budget.Scope, m.Budget.Value, m.Budget.LimitUsd, m.Forecast.SpentUsd, m.Forecast.ForecastUsd, m.Forecast.LowUsd, m.Forecast.HighUsd, Percent(m.Forecast.ForecastUsd, m.Budget.LimitUsd), Status(m.Forecast, m.Budget.LimitUsd) })]);
            return;
        }

        await context.Response.WriteAsJsonAsync(new
        {
            month = total.Month.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture),
            as_of = asOf,
            method = total.Method,
            spent_usd = total.SpentUsd,
            forecast_usd = total.ForecastUsd,
            low_usd = total.LowUsd,
            high_usd = total.HighUsd,
            budgets = monthly.Select(m => new
            {
                name = m.Budget.Name,
                scope = m.Budget.Scope,
                value = m.Budget.Value,
                limit_usd = m.Budget.LimitUsd,
                spent_usd = m.Forecast.SpentUsd,
                forecast_usd = m.Forecast.ForecastUsd,
                low_usd = m.Forecast.LowUsd,
                high_usd = m.Forecast.HighUsd,
                forecast_percent = Percent(m.Forecast.ForecastUsd, m.Budget.LimitUsd),
                status = Status(m.Forecast, m.Budget.LimitUsd),
            }),
        }, context.RequestAborted);
    }

    /// <summary>Cost, revenue and margin per feature (or another grouping); negative-margin groups are flagged.</summary>
    private static async Task UnitEconomicsAsync(HttpContext context, Authenticator auth, ILedgerStore ledger, Analytics.UnitEconomics.IOutcomeStore outcomes, GatewayConfig config, TimeProvider time)
    {
        if (await AdmitAsync(context, auth, time) is not { } range)
        {
            return;
        }

        var groupBy = context.Request.Query["group_by"].ToString() is { Length: > 0 } g ? g : "feature";
        if (SpendGrouping.Parse(groupBy) is not { } grouping)
        {
            await WriteErrorAsync(context, GatewayError.InvalidRequest($"'group_by' must be one of: {string.Join(", ", SpendGrouping.Names)}.", "invalid_value", "group_by"));
            return;
        }

        var records = await ledger.ReadAsync(range.From, range.To, context.RequestAborted).ToListAsync(context.RequestAborted);
        var rows = Analytics.UnitEconomics.UnitEconomicsReport.Build(records, await outcomes.ListAsync(range.From, range.To, context.RequestAborted), grouping, config.TimeZone);
        if (range.Format == "csv")
        {
            await WriteCsvAsync(context,
                [grouping.Name, "requests", "cost_usd", "cost_per_request_usd", "active_user_days", "cost_per_active_user_day_usd", "conversions", "revenue_usd", "margin_usd", "margin_per_request_usd", "cost_per_conversion_usd", "negative_margin"],
                rows.Select(r => new object?[] { r.Group, r.Requests, r.CostUsd, r.CostPerRequestUsd, r.ActiveUserDays, r.CostPerActiveUserDayUsd, r.Conversions, r.RevenueUsd, r.MarginUsd, r.MarginPerRequestUsd, r.CostPerConversionUsd, r.NegativeMargin }));
            return;
        }

        await context.Response.WriteAsJsonAsync(new
        {
            group_by = grouping.Name,
            rows = rows.Select(r => new
            {
                group = r.Group,
                requests = r.Requests,
                cost_usd = r.CostUsd,
                cost_per_request_usd = r.CostPerRequestUsd,
                active_user_days = r.ActiveUserDays,
                cost_per_active_user_day_usd = r.CostPerActiveUserDayUsd,
                conversions = r.Conversions,
                revenue_usd = r.RevenueUsd,
                margin_usd = r.MarginUsd,
                margin_per_request_usd = r.MarginPerRequestUsd,
                cost_per_conversion_usd = r.CostPerConversionUsd,
                negative_margin = r.NegativeMargin,
            }),
        }, context.RequestAborted);
    }


    /// <summary>What to do next, ranked (<see cref="Analytics.Advice.Advisor"/>): from the range's records, with monthly figures.</summary>
    private static async Task AdviceAsync(
        HttpContext context, Authenticator auth, ILedgerStore ledger, Analytics.UnitEconomics.IOutcomeStore outcomes, Metering.PriceCatalog catalog, GatewayConfig config, TimeProvider time)
    {
        if (await AdmitAsync(context, auth, time) is not { } range)
        {
            return;
        }

        var advice = await Analytics.Advice.Advisor.AdviseAsync(ledger, outcomes, new Analytics.Advice.AdvicePrices(catalog, config.Deployments), config.TimeZone, range.From, range.To, time.GetUtcNow(), context.RequestAborted);
        if (range.Format == "csv")
        {
            await WriteCsvAsync(context, ["rank", "kind", "subject", "monthly_usd", "worth", "finding", "action"],
                advice.Select((a, i) => new object?[] { i + 1, a.Kind, a.Subject, a.MonthlyUsd, a.Worth, a.Finding, a.Action }));
            return;
        }

        await context.Response.WriteAsJsonAsync(new
        {
            from = range.From,
            to = range.To == DateTimeOffset.MaxValue ? (DateTimeOffset?)null : range.To,
            data = advice.Select((a, i) => new
            {
                rank = i + 1,
                kind = a.Kind,
                subject = a.Subject,
                finding = a.Finding,
                action = a.Action,
                monthly_usd = a.MonthlyUsd,
                worth = a.Worth,
                evidence = a.Evidence,
            }),
        }, context.RequestAborted);
    }

    /// <summary>Anomalies found since <c>from</c> (default 30 days), newest first.</summary>
    private static async Task AnomaliesAsync(HttpContext context, Authenticator auth, Analytics.Anomalies.IAnomalyStore store, TimeProvider time)
    {
        if (await AdmitAsync(context, auth, time) is { } range)
        {
            var anomalies = await store.ListAsync(range.From, context.RequestAborted);
            if (range.Format == "csv")
            {
                await WriteCsvAsync(context, ["kind", "dimension", "value", "period", "cost_usd", "baseline_usd", "ratio", "detected_at"],
                    anomalies.Select(a => new object?[] { a.Kind, a.Dimension, a.Value, a.Period, a.CostUsd, a.BaselineUsd, a.Ratio, a.DetectedAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture) }));
                return;
            }

            await WriteAnomaliesAsync(context, anomalies);
        }
    }

    /// <summary>
    /// Builds the digest of the last complete day or week (<c>every</c>, else the configured one, else weekly) and sends it
    /// to the alert webhooks now, whatever the schedule — to try a webhook, or to send one by hand; answers with it.
    /// </summary>
    private static async Task SendDigestAsync(
        HttpContext context, Authenticator auth, ILedgerStore ledger, Policy.Budgets.BudgetGuard budgets, Policy.Alerts.AlertQueue alerts, GatewayConfig config, TimeProvider time)
    {
        if (!auth.IsMaster(context.Request, out var error))
        {
            await WriteErrorAsync(context, error!);
            return;
        }

        var every = context.Request.Query["every"].ToString() is { Length: > 0 } e ? e : config.Digest.Every ?? "weekly";
        if (every is not ("daily" or "weekly"))
        {
            await WriteErrorAsync(context, GatewayError.InvalidRequest("'every' must be daily or weekly.", "invalid_value", "every"));
            return;
        }

        var digest = await Analytics.Digest.SpendDigest.BuildAsync(
            ledger, budgets.Snapshot().Select(b => b.Budget), config.Digest with { Every = every }, time.GetUtcNow(), config.TimeZone, context.RequestAborted);
        alerts.Enqueue(digest);
        await context.Response.WriteAsJsonAsync(digest.Payload(), context.RequestAborted);
    }

    /// <summary>Runs the anomaly check now (it also runs on its own every few minutes); answers with the anomalies that were new.</summary>
    private static async Task CheckAnomaliesAsync(HttpContext context, Authenticator auth, Analytics.Anomalies.AnomalyMonitor monitor)
    {
        if (!auth.IsMaster(context.Request, out var error))
        {
            await WriteErrorAsync(context, error!);
            return;
        }

        await WriteAnomaliesAsync(context, await monitor.CheckAsync(context.RequestAborted));
    }

    private static Task WriteAnomaliesAsync(HttpContext context, IReadOnlyList<Analytics.Anomalies.SpendAnomaly> anomalies) =>
        context.Response.WriteAsJsonAsync(new
        {
            data = anomalies.Select(a => new
            {
                kind = a.Kind,
                dimension = a.Dimension,
                value = a.Value,
                period = a.Period,
                cost_usd = a.CostUsd,
                baseline_usd = a.BaselineUsd,
                ratio = a.Ratio,
                detected_at = a.DetectedAt,
            }),
        }, context.RequestAborted);

    private static async Task WriteRecordsAsync(HttpContext context, string format, IAsyncEnumerable<UsageRecord> records)
    {
        context.Response.ContentType = ContentType(format);
        if (format == "csv")
        {
            await RecordExport.WriteCsvAsync(context.Response.Body, records, context.RequestAborted);
        }
        else
        {
            await RecordExport.WriteJsonAsync(context.Response.Body, records, context.RequestAborted);
        }
    }

    /// <summary>A CSV report: a header row, then one row per item; numbers invariant and exact, booleans true/false, nulls empty.</summary>
    private static async Task WriteCsvAsync(HttpContext context, IReadOnlyList<string> header, IEnumerable<object?[]> rows)
    {
        var text = new StringBuilder(string.Join(',', header.Select(CsvText.Cell))).Append('\n');
        foreach (var row in rows)
        {
            text.AppendJoin(',', row.Select(v => v switch
            {
                null => string.Empty,
                bool flag => flag ? "true" : "false",
                IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                _ => CsvText.Cell(v.ToString()!),
            })).Append('\n');
        }

        context.Response.ContentType = ContentType("csv");
        await context.Response.WriteAsync(text.ToString(), context.RequestAborted);
    }

    private static string ContentType(string format) => format == "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8";

    /// <summary>The master key, a valid time range and format (json or csv) — or null, with the error already answered.</summary>
    private static async Task<Range?> AdmitAsync(HttpContext context, Authenticator auth, TimeProvider time)
    {
        var query = context.Request.Query;
        var format = query["format"].ToString() is { Length: > 0 } f ? f : "json";
        var now = time.GetUtcNow();
        GatewayError? error = null;
        // Without 'to' the range is open-ended: everything recorded since 'from' (as of now), so the current hour is read
        // from its rollup row and the records past the rollups' mark rather than as a part-hour of raw records.
        DateTimeOffset from = default, to = DateTimeOffset.MaxValue;
        if (!auth.IsMaster(context.Request, out var authError))
        {
            error = authError;
        }
        else if (format is not ("json" or "csv"))
        {
            error = GatewayError.InvalidRequest("'format' must be json or csv.", "invalid_value", "format");
        }
        else if (!SinceParser.TryParseReportStart(query["from"].ToString() is { Length: > 0 } f1 ? f1 : "30d", now, out from)
            || (query["to"].ToString() is { Length: > 0 } t && !SinceParser.TryParse(t, now, out to)))
        {
            error = GatewayError.InvalidRequest(
                "'from' and 'to' must be a date (2026-11-01), a UTC date-time (2026-11-01T09:30) or a duration back from now (90m, 24h, 7d, 4w).", "invalid_value", "from");
        }
        else if (to <= from)
        {
            error = GatewayError.InvalidRequest("'to' must be after 'from'.", "invalid_value", "to");
        }

        if (error is not null)
        {
            await WriteErrorAsync(context, error);
            return null;
        }

        return new Range(from, to, format);
    }

    private static Task WriteErrorAsync(HttpContext context, GatewayError error) => OpenAiErrorWriter.WriteAsync(context.Response, error);
}
