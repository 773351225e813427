using System.Net;

namespace Tollgate.Providers;

/// <summary>
/// The one HTTP client every adapter sends through: a pooled <see cref="SocketsHttpHandler"/> tuned for a proxy
/// (no system proxy, no redirects, no cookies, no decompression, so bodies pass through as sent).
/// </summary>
public sealed class UpstreamHttp : IDisposable
{
    public UpstreamHttp()
    {
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            EnableMultipleHttp2Connections = true,
        });
    }

    public HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();
}
