using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Optimization.ResponseCaching;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// <c>/admin/cache</c>, behind the master key: the response cache's settings and size (GET), and a purge (DELETE) of
/// the answers of one scope (<c>scope=key:ID</c>, <c>tag:NAME=VALUE</c>, <c>global</c>), one alias, or older than an
/// age (<c>older_than=2h</c>, or a date), every condition given applying.
/// </summary>
public static class AdminCacheEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/admin/cache", Show);
        app.MapDelete("/admin/cache", Purge);
    }

    private static async Task<IResult> Show(HttpContext context, Authenticator auth, ResponseCache cache)
    {
        if (!auth.IsMaster(context.Request, out var error))
        {
            return AdminJson.Error(error!);
        }

        var settings = cache.Settings;
        if (await cache.SizeAsync(context.RequestAborted) is not var (entries, bytes))
        {
            return AdminJson.Error(Unavailable("nothing could be counted"));
        }

        return Results.Json(new
        {
            enabled = settings.Enabled,
            scope = settings.Scope.ToString(),
            store = settings.Shared ? "shared" : "memory",
            ttl_seconds = (long)settings.Ttl.TotalSeconds,
            max_bytes = settings.MaxBytes,
            aliases = settings.Aliases,
            entries,
            bytes,
        });
    }

    private static async Task<IResult> Purge(HttpContext context, Authenticator auth, ResponseCache cache, TimeProvider time)
    {
        if (!auth.IsMaster(context.Request, out var error))
        {
            return AdminJson.Error(error!);
        }

        var query = context.Request.Query;
        TimeSpan? olderThan = null;
        if (query["older_than"].ToString() is { Length: > 0 } age)
        {
            var now = time.GetUtcNow();
            if (!Analytics.SinceParser.TryParse(age, now, out var before))
            {
                return AdminJson.Error(GatewayError.InvalidRequest($"'older_than' must be an age such as 90m, 24h or 7d, or a date: '{age}' is neither.", "invalid_value", "older_than"));
            }

            olderThan = now - before;
        }

        var scope = query["scope"].ToString();
        var alias = query["alias"].ToString();
        foreach (var (name, value) in new[] { ("scope", scope), ("alias", alias) })
        {
            // No scope or alias holds a control character; a NUL would also be refused by a shared store's database.
            if (value.Any(char.IsControl))
            {
                return AdminJson.Error(GatewayError.InvalidRequest($"'{name}' holds a control character; no {name} does.", "invalid_value", name));
            }
        }

        var purged = await cache.PurgeAsync(new CachePurgeFilter(scope.Length > 0 ? scope : null, alias.Length > 0 ? alias : null, olderThan), context.RequestAborted);
        return purged is { } count
            ? Results.Json(new { purged = count })
            : AdminJson.Error(Unavailable("nothing was purged"));
    }

    private static GatewayError Unavailable(string outcome) =>
        new(StatusCodes.Status503ServiceUnavailable, "api_error", "cache_unavailable", $"The response cache's store failed; {outcome}. Try again.");
}
