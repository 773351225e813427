using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tollgate.Bench;

/// <summary>
/// The baseline: the least a proxy can do. Copies the request to the upstream and the answer back through the same
/// tuned <see cref="SocketsHttpHandler"/> the gateway uses, with no parsing, metering or ledger.
/// </summary>
internal sealed class BareForwarder : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpMessageInvoker _http;

    private BareForwarder(WebApplication app, HttpMessageInvoker http, Uri baseUrl)
    {
        _app = app;
        _http = http;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    public static async Task<BareForwarder> StartAsync(Uri upstreamBase)
    {
        var http = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        });
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var target = upstreamBase.AbsoluteUri.TrimEnd('/') + "/chat/completions";
        app.MapPost("/v1/chat/completions", async (HttpContext context) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new StreamContent(context.Request.Body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType);
            using var response = await http.SendAsync(request, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        });
        await app.StartAsync();
        return new BareForwarder(app, http, new Uri(app.Urls.First()));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }
}
