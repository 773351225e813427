using System.Net;
using System.Net.Sockets;

namespace Tollgate.Providers;

/// <summary>
/// The one HTTP client every adapter sends through: a pooled <see cref="SocketsHttpHandler"/> tuned for a proxy
/// (no system proxy, no redirects, no cookies, no decompression, so bodies pass through as sent). New connections
/// are made within the connect timeout of the deployment whose request opens them (<see cref="ConnectTimeout"/>).
/// </summary>
public sealed class UpstreamHttp : IDisposable
{
    /// <summary>The request option that carries a deployment's connect timeout to the connection callback.</summary>
    public static readonly HttpRequestOptionsKey<TimeSpan> ConnectTimeout = new("tollgate.connect_timeout");

    /// <summary>The connect timeout of a request that does not carry <see cref="ConnectTimeout"/>.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = Configuration.DeploymentTimeouts.Default.Connect;

    public UpstreamHttp()
    {
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            EnableMultipleHttp2Connections = true,
            ConnectCallback = ConnectAsync,
        });
    }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();

    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var timeout = context.InitialRequestMessage.Options.TryGetValue(ConnectTimeout, out var configured) ? configured : DefaultConnectTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, deadline.Token);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"no connection to {context.DnsEndPoint.Host}:{context.DnsEndPoint.Port} within {timeout.TotalSeconds:0.###} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
