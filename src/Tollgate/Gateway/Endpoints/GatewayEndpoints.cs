using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Providers;

namespace Tollgate.Gateway.Endpoints;

/// <summary>The OpenAI-compatible surface: chat completions, embeddings, models, health; every other path is a JSON 404.</summary>
public static class GatewayEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // The proxy endpoints are plain request delegates over the one handler: no parameter binding and no
        // per-request service scope on the hot path.
        var handler = app.ServiceProvider.GetRequiredService<ProxyRequestHandler>();
        foreach (var prefix in new[] { "/v1", string.Empty })
        {
            app.MapPost(prefix + "/chat/completions", context => handler.HandleAsync(context, GatewayEndpoint.ChatCompletions));
            app.MapPost(prefix + "/completions", context => handler.HandleAsync(context, GatewayEndpoint.Completions));
            app.MapPost(prefix + "/responses", context => handler.HandleAsync(context, GatewayEndpoint.Responses));
            app.MapPost(prefix + "/embeddings", context => handler.HandleAsync(context, GatewayEndpoint.Embeddings));
            app.MapGet(prefix + "/models", ListModelsAsync);
        }

        app.MapPost("/v1/messages", context => handler.HandleAsync(context, GatewayEndpoint.Messages));
        app.MapPost("/v1/cost/estimate", CostEstimateEndpoint.HandleAsync);
        app.MapPost("/v1/outcomes", OutcomeEndpoint.HandleAsync);
        app.MapGet("/healthz", () => Results.Json(new { status = "ok" }));
        app.MapGet("/metrics", MetricsEndpoint.HandleAsync);
        AdminKeyEndpoints.Map(app);
        AdminBudgetEndpoints.Map(app);
        AdminAnalyticsEndpoints.Map(app);
        AdminCacheEndpoints.Map(app);
        AdminRouterEndpoints.Map(app);
        KeptResponseEndpoints.Map(app);
        BatchFileEndpoints.Map(app);
        BatchEndpoints.Map(app);
        MessageBatchEndpoints.Map(app);

        app.MapFallback((HttpContext context) => OpenAiErrorWriter.WriteAsync(context.Response, new GatewayError(
            StatusCodes.Status404NotFound, "invalid_request_error", "unknown_url", $"Unrecognized request URL ({context.Request.Method} {context.Request.Path}).")));
    }

    /// <summary>The endpoints a model can be listed as serving, by the path a client calls.</summary>
    private static readonly (GatewayEndpoint Endpoint, string Path)[] EndpointPaths =
    [
        (GatewayEndpoint.ChatCompletions, "/v1/chat/completions"),
        (GatewayEndpoint.Completions, "/v1/completions"),
        (GatewayEndpoint.Embeddings, "/v1/embeddings"),
        (GatewayEndpoint.Messages, "/v1/messages"),
        (GatewayEndpoint.Responses, "/v1/responses"),
    ];

    private static async Task ListModelsAsync(HttpContext context, Authenticator authenticator, DeploymentRouter router, Routing.RouterTable routers, TimeProvider time)
    {
        var caller = authenticator.Authenticate(context.Request, out var error);
        if (caller is null)
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, error!);
            return;
        }

        var created = time.GetUtcNow().ToUnixTimeSeconds();
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("object", "list");
        writer.WriteStartArray("data");
        // Routers are models a client may call like any alias; each model says which endpoints it can be called on.
        var targetsOf = routers.All.ToDictionary(r => r.Settings.Name, r => r.Settings.Targets, StringComparer.Ordinal);
        foreach (var alias in router.Aliases.Concat(targetsOf.Keys.Order(StringComparer.Ordinal)).Where(a => caller.Key?.Allows(a) ?? true))
        {
            writer.WriteStartObject();
            writer.WriteString("id", alias);
            writer.WriteString("object", "model");
            writer.WriteNumber("created", created);
            writer.WriteString("owned_by", "tollgate");
            writer.WriteStartArray("endpoints");
            var served = targetsOf.TryGetValue(alias, out var targets) ? targets : [alias];
            foreach (var (endpoint, path) in EndpointPaths.Where(e => router.All.Any(d => served.Contains(d.Config.Alias) && d.Adapter.Supports(e.Endpoint))))
            {
                writer.WriteStringValue(path);
            }

            // A batch runs on one alias (not a router), on an OpenAI-compatible deployment.
            if (!targetsOf.ContainsKey(alias) && router.All.Any(d => d.Config.Alias == alias && d.Adapter is Providers.OpenAiCompatible.OpenAiCompatibleAdapter))
            {
                writer.WriteStringValue("/v1/batches");
            }

            if (!targetsOf.ContainsKey(alias) && router.All.Any(d => d.Config.Alias == alias && d.Adapter is Providers.Anthropic.AnthropicAdapter))
            {
                writer.WriteStringValue("/v1/messages/batches");
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
