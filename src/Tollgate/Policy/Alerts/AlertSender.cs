using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tollgate.Policy.Alerts;

/// <summary>
/// Delivers budget alerts to every configured webhook, off the request path, with retries (1 s, 2 s, 4 s), and drains
/// the queue on shutdown.
/// </summary>
public sealed partial class AlertSender(AlertQueue queue, IReadOnlyList<AlertWebhook> webhooks, TimeProvider time, ILogger<AlertSender> logger) : BackgroundService
{
    private const int Attempts = 4;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Complete();
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var alert in queue.Reader.ReadAllAsync(CancellationToken.None))
        {
            foreach (var webhook in webhooks)
            {
                await DeliverAsync(webhook, alert);
            }
        }
    }

    private async Task DeliverAsync(AlertWebhook webhook, BudgetAlert alert)
    {
        object payload = webhook.Slack
            ? new { text = Text(alert) }
            : new
            {
                type = "budget_threshold",
                budget = alert.Budget,
                threshold_percent = alert.ThresholdPercent,
                spent_usd = alert.SpentUsd,
                limit_usd = alert.LimitUsd,
                period = alert.Period,
                resets_at = alert.ResetsAt,
                at = alert.At,
            };
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                using var response = await _http.PostAsJsonAsync(webhook.Url, payload);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                LogFailed(logger, webhook.Url.Host, attempt, $"HTTP {(int)response.StatusCode}");
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                LogFailed(logger, webhook.Url.Host, attempt, ex.Message);
            }

            if (attempt < Attempts)
            {
                await Task.Delay(TimeSpan.FromSeconds(1 << (attempt - 1)), time, CancellationToken.None);
            }
        }
    }

    internal static string Text(BudgetAlert alert)
    {
        var reset = alert.ResetsAt is { } at ? string.Create(CultureInfo.InvariantCulture, $", resets {at.UtcDateTime:yyyy-MM-dd HH:mm} UTC.") : ".";
        return string.Create(CultureInfo.InvariantCulture,
            $"Tollgate: budget '{alert.Budget}' has used {alert.ThresholdPercent}% or more — ${alert.SpentUsd:0.00####} of ${alert.LimitUsd} ({alert.Period}){reset}");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Budget alert to {Host} failed (attempt {Attempt}): {Reason}")]
    private static partial void LogFailed(ILogger logger, string host, int attempt, string reason);
}
