using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tollgate.Tests.Support;

/// <summary>A webhook endpoint on 127.0.0.1 that keeps every JSON body posted to it, by path.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<(string Path, JsonElement Body)> Received { get; } = new();

    /// <summary>The receiver's root, e.g. <c>http://127.0.0.1:40123</c>; post to any path under it.</summary>
    public string Root => _app.Urls.First();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{kind}", async (HttpContext context, string kind) =>
        {
            receiver.Received.Enqueue(("/" + kind, (await JsonDocument.ParseAsync(context.Request.Body)).RootElement.Clone()));
            return Results.Ok();
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>Waits until at least <paramref name="count"/> bodies arrived (or 10 s), then a little longer for any extra.</summary>
    public async Task WaitForAsync(int count)
    {
        for (var waited = 0; Received.Count < count && waited < 10_000; waited += 20)
        {
            await Task.Delay(20);
        }

        await Task.Delay(300);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
