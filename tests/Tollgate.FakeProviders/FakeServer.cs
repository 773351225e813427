using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using System.Text.Json;

namespace Tollgate.FakeProviders;

/// <summary>What every fake provider shares: Kestrel on 127.0.0.1 port 0, and reading a request as it was received.</summary>
internal static class FakeServer
{
    /// <summary>Starts a server whose routes <paramref name="map"/> adds; returns it and its root URL.</summary>
    /// <param name="map">Adds the provider's routes.</param>
    /// <param name="refusal">
    /// The provider's error body for a request it cannot read (a fake handler that throws on it): real providers answer
    /// such a request with a 400 in their own error shape, never a 500, and so does the fake.
    /// </param>
    public static async Task<(WebApplication App, Uri Root)> StartAsync(Action<WebApplication> map, Func<string, string> refusal)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException && !context.Response.HasStarted)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(refusal("The request could not be read: " + ex.GetType().Name));
            }
        });
        map(app);
        await app.StartAsync();
        return (app, new Uri(app.Urls.First()));
    }

    public static async Task<ReceivedRequest> ReceiveAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        return new ReceivedRequest(
            context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
            buffer.ToArray());
    }

    public static async Task StopAsync(WebApplication app)
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
