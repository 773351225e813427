using System.Threading.Channels;

namespace Tollgate.Policy.Alerts;

/// <summary>Alerts leave the request path through this bounded queue; the <see cref="AlertSender"/> delivers them.</summary>
public sealed class AlertQueue
{
    private readonly Channel<Alert> _channel = Channel.CreateBounded<Alert>(new BoundedChannelOptions(1000)
    {
        // Alerts are rare; if a webhook is down for long, the newest state matters more than a backlog.
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });

    internal ChannelReader<Alert> Reader => _channel.Reader;

    public void Enqueue(Alert alert) => _channel.Writer.TryWrite(alert);

    internal void Complete() => _channel.Writer.TryComplete();
}
