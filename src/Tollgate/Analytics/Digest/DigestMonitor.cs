using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tollgate.Configuration;
using Tollgate.Ledger;
using Tollgate.Policy.Alerts;
using Tollgate.Policy.Budgets;

namespace Tollgate.Analytics.Digest;

/// <summary>
/// Sends the spend digest when its period is due (<see cref="DigestSchedule"/>) and, every hour, an alert for each
/// monthly budget whose month-end forecast has reached its limit — each once per period, across restarts and replicas
/// (recorded in the <see cref="IAlertLog"/> before it is sent). A digest missed while the gateway was down is sent when it
/// starts again.
/// </summary>
public sealed partial class DigestMonitor(
    ILedgerStore ledger, BudgetGuard budgets, IAlertLog log, AlertQueue alerts, GatewayConfig config, TimeProvider time, ILogger<DigestMonitor> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ForecastEvery = TimeSpan.FromHours(1);
    private DateTimeOffset _lastForecast = DateTimeOffset.MinValue;

    /// <summary>Does what is due now; returns the alerts it sent.</summary>
    public async Task<IReadOnlyList<Alert>> CheckAsync(CancellationToken cancellationToken)
    {
        var settings = config.Digest;
        var now = time.GetUtcNow();
        var sent = new List<Alert>();
        if (DigestSchedule.IsDue(now, settings, config.TimeZone))
        {
            var (start, _) = DigestSchedule.LastCompletePeriod(now, settings, config.TimeZone);
            if (await log.TryRecordAsync("digest:" + settings.Every, settings.GroupBy, start.ToString("O", System.Globalization.CultureInfo.InvariantCulture), now, cancellationToken))
            {
                sent.Add(await SpendDigest.BuildAsync(ledger, Budgets(), settings, now, config.TimeZone, cancellationToken));
            }
        }

        if (settings.Forecast && now - _lastForecast >= ForecastEvery)
        {
            _lastForecast = now;
            var month = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, config.TimeZone).DateTime);
            foreach (var forecast in await SpendDigest.ForecastsAsync(ledger, Budgets(), now, config.TimeZone, cancellationToken))
            {
                if (forecast.ForecastUsd >= forecast.LimitUsd
                    && await log.TryRecordAsync("forecast", forecast.Budget, month.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture), now, cancellationToken))
                {
                    sent.Add(new ForecastAlert(forecast, new DateOnly(month.Year, month.Month, 1), now));
                }
            }
        }

        foreach (var alert in sent)
        {
            alerts.Enqueue(alert);
        }

        return sent;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CheckAsync(stoppingToken);
                await Task.Delay(Tick, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                // Tried again at the next tick. (A digest recorded as sent whose report then failed is not retried: logged here.)
                LogCheckFailed(logger, ex);
                try
                {
                    await Task.Delay(Tick, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private IEnumerable<Budget> Budgets() => budgets.Snapshot().Select(b => b.Budget);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The spend digest or forecast check failed; trying again in a minute")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
