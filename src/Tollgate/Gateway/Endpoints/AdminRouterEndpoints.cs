using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tollgate.Configuration;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Routing;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// <c>/admin/routers</c>, behind the master key: the routers in force (GET), and a reload (<c>POST /admin/routers/reload</c>)
/// that reads the configuration file the gateway started from again and puts its <c>routers:</c> in force for the next
/// request — a canary's weight from 5 to 20 without a restart. Nothing else in the file is reloaded; a file with any
/// error changes nothing.
/// </summary>
public static class AdminRouterEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/admin/routers", Show);
        app.MapPost("/admin/routers/reload", Reload);
    }

    private static IResult Show(HttpContext context, Authenticator auth, RouterTable routers)
    {
        if (!auth.IsMaster(context.Request, out var error))
        {
            return AdminJson.Error(error!);
        }

        return Results.Json(new { data = routers.All.OrderBy(r => r.Settings.Name, StringComparer.Ordinal).Select(Describe) });
    }

    private static IResult Reload(HttpContext context, Authenticator auth, RouterTable routers, GatewayConfig config, DeploymentRouter deployments)
    {
        if (!auth.IsMaster(context.Request, out var error))
        {
            return AdminJson.Error(error!);
        }

        if (!File.Exists(config.Source))
        {
            return AdminJson.Error(new GatewayError(StatusCodes.Status409Conflict, "invalid_request_error", "no_config_file",
                $"The gateway was started from {config.Source}, not a file: there is nothing to reload."));
        }

        GatewayConfig fresh;
        try
        {
            fresh = ConfigLoader.Load(config.Source, Environment.GetEnvironmentVariable);
        }
        catch (ConfigException ex)
        {
            return AdminJson.Error(new GatewayError(StatusCodes.Status400BadRequest, "invalid_request_error", "invalid_config",
                "The configuration file has errors; the routers in force are unchanged: " + string.Join("; ", ex.Errors)));
        }

        var running = deployments.Aliases.ToHashSet(StringComparer.Ordinal);
        var notRunning = fresh.Routers.SelectMany(r => r.Targets).Where(t => !running.Contains(t)).Distinct().ToList();
        if (notRunning.Count > 0)
        {
            return AdminJson.Error(new GatewayError(StatusCodes.Status400BadRequest, "invalid_request_error", "invalid_config",
                $"Routers name aliases this gateway is not running ({string.Join(", ", notRunning)}): new models need a restart; the routers in force are unchanged."));
        }

        routers.Replace(fresh.Routers);
        return Results.Json(new { reloaded = true, data = routers.All.OrderBy(r => r.Settings.Name, StringComparer.Ordinal).Select(Describe) });
    }

    private static object Describe(Router router) => new
    {
        name = router.Settings.Name,
        targets = router.Settings.Targets,
        reference = router.Reference?.Config.Alias,
        sticky = router.Settings.Sticky.ToString().ToLowerInvariant(),
        rules = router.Settings.Rules.Select(r => new { name = r.Name, target = r.Target }),
        weights = router.Settings.Weights.ToDictionary(w => w.Target, w => w.Weight),
    };
}
