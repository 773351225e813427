using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tollgate.Configuration;
using Tollgate.Ledger;
using Tollgate.Policy.Alerts;

namespace Tollgate.Analytics.Anomalies;

/// <summary>
/// Checks the ledger for anomalous spend at start and then every <see cref="AnomalySettings.CheckEvery"/>: the last
/// complete hour each time, the last complete day once. A new anomaly is stored and alerted to the webhooks once.
/// </summary>
public sealed partial class AnomalyMonitor(
    ILedgerStore ledger, IAnomalyStore store, AlertQueue alerts, GatewayConfig config, TimeProvider time, ILogger<AnomalyMonitor> logger) : BackgroundService
{
    private readonly SemaphoreSlim _checking = new(1, 1);
    private DateOnly _dayChecked;

    /// <summary>Checks now; returns the anomalies that were new. Checks never overlap.</summary>
    public async Task<IReadOnlyList<SpendAnomaly>> CheckAsync(CancellationToken cancellationToken)
    {
        await _checking.WaitAsync(cancellationToken);
        try
        {
            var settings = config.Anomalies;
            var now = time.GetUtcNow();
            var local = TimeZoneInfo.ConvertTime(now, config.TimeZone);
            var yesterday = DateOnly.FromDateTime(local.DateTime).AddDays(-1);
            var lastHour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-1);
            // A finished day does not change: it is checked once (8 days read); the checks in between read 26 hours.
            var dailyDue = yesterday != _dayChecked;
            var points = await PointsAsync(now.AddDays(dailyDue ? -10 : -1).AddHours(-2), now, settings, cancellationToken);
            var found = AnomalyDetector.Hourly(points, lastHour, settings, config.TimeZone, now).ToList();
            if (dailyDue)
            {
                found.AddRange(AnomalyDetector.Daily(points, yesterday, settings, config.TimeZone, now));
            }

            var added = new List<SpendAnomaly>();
            foreach (var anomaly in found)
            {
                if (await store.TryAddAsync(anomaly, cancellationToken))
                {
                    added.Add(anomaly);
                    alerts.Enqueue(new SpendAnomalyAlert(anomaly));
                    LogFound(logger, anomaly.Dimension, anomaly.Value, anomaly.Period, anomaly.CostUsd, anomaly.BaselineUsd);
                }
            }

            _dayChecked = yesterday;
            return added;
        }
        finally
        {
            _checking.Release();
        }
    }

    /// <summary>Spend on every configured dimension, from the hourly rollups where they answer (an hour a local midnight cuts is read raw).</summary>
    private async Task<List<SpendPoint>> PointsAsync(DateTimeOffset from, DateTimeOffset to, AnomalySettings settings, CancellationToken cancellationToken)
    {
        var points = new List<SpendPoint>();
        DateOnly DayOf(DateTimeOffset at) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, config.TimeZone).DateTime);
        foreach (var dimension in settings.Dimensions)
        {
            var grouping = dimension == "global" ? null : SpendGrouping.Parse(dimension);
            if (dimension != "global" && grouping is null)
            {
                continue;
            }

            await Ledger.Rollups.RollupReader.ReadAsync(
                ledger,
                grouping?.RollupDimension ?? Ledger.Rollups.RollupDimensions.Total,
                from,
                to,
                hour => DayOf(Ledger.Rollups.RollupDimensions.StartOf(hour)) != DayOf(Ledger.Rollups.RollupDimensions.StartOf(hour + 1).AddTicks(-1)),
                (hour, value, totals) =>
                {
                    var key = grouping is null ? "all" : value is null ? null : grouping.KeyOfRollup(hour, value);
                    if (key is not null)
                    {
                        points.Add(new SpendPoint(dimension, key, Ledger.Rollups.RollupDimensions.StartOf(hour), totals.CostTotal));
                    }
                },
                record =>
                {
                    var key = grouping is null ? "all" : grouping.KeyOf(record);
                    if (key is not null && record.Cost.Total is { } cost)
                    {
                        points.Add(new SpendPoint(dimension, key, record.Timestamp, cost));
                    }
                },
                cancellationToken);
        }

        return points;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!config.Anomalies.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(config.Anomalies.CheckEvery, time);
        do
        {
            try
            {
                await CheckAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
            {
                LogCheckFailed(logger, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Spend anomaly: {Dimension} '{Value}' cost ${Cost} in {Period} against a usual ${Baseline}")]
    private static partial void LogFound(ILogger logger, string dimension, string value, string period, decimal cost, decimal baseline);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The anomaly check failed and will run again at the next interval: {Reason}")]
    private static partial void LogCheckFailed(ILogger logger, string reason);
}
