using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;

namespace Tollgate.Dashboard;

/// <summary>
/// The web dashboard at <c>/ui</c>: a page, its script and style, and Chart.js (from npm, embedded at build time), all
/// behind the master key. A browser signs in with HTTP Basic (any user name, the master key as the password) and the
/// page reads the analytics API under <see cref="ApiPrefix"/>, which the browser sends the same credentials to.
/// </summary>
public static class DashboardEndpoints
{
    public const string ApiPrefix = "/ui/api";
    private const string Challenge = "Basic realm=\"Tollgate dashboard\", charset=\"UTF-8\"";

    private static readonly (string Path, string Resource, string ContentType)[] Assets =
    [
        ("/ui", "index.html", "text/html; charset=utf-8"),
        ("/ui/dashboard.js", "dashboard.js", "text/javascript; charset=utf-8"),
        ("/ui/dashboard.css", "dashboard.css", "text/css; charset=utf-8"),
        ("/ui/favicon.svg", "favicon.svg", "image/svg+xml"),
        ("/ui/chart.umd.min.js", "chart.umd.min.js", "text/javascript; charset=utf-8"),
    ];

    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Any refusal under /ui asks the browser for credentials, so the sign-in prompt appears.
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/ui"))
            {
                context.Response.OnStarting(() =>
                {
                    if (context.Response.StatusCode == StatusCodes.Status401Unauthorized)
                    {
                        context.Response.Headers.WWWAuthenticate = Challenge;
                    }

                    return Task.CompletedTask;
                });
            }

            return next(context);
        });

        foreach (var (path, resource, contentType) in Assets)
        {
            var bytes = Read(resource);
            app.MapGet(path, async (HttpContext context, Authenticator auth) =>
            {
                if (!auth.IsMaster(context.Request, out var error))
                {
                    await OpenAiErrorWriter.WriteAsync(context.Response, error!);
                    return;
                }

                context.Response.ContentType = contentType;
                context.Response.Headers.CacheControl = "no-cache";
                await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
            });
        }
    }

    private static byte[] Read(string resource)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Tollgate.Dashboard." + resource)
            ?? throw new InvalidOperationException($"The dashboard asset {resource} is not embedded in the build.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
