using System.Net.Http.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tollgate.Policy.Alerts;

/// <summary>
/// Delivers alerts (budget thresholds, spend anomalies) to every configured webhook, off the request path, with retries (1 s, 2 s, 4 s), and drains
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

    private async Task DeliverAsync(AlertWebhook webhook, Alert alert)
    {
        var payload = webhook.Slack ? new { text = alert.Text() } : alert.Payload();
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert to {Host} failed (attempt {Attempt}): {Reason}")]
    private static partial void LogFailed(ILogger logger, string host, int attempt, string reason);
}
