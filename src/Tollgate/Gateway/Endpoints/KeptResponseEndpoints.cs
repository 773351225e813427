using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Gateway.Responses;
using Tollgate.Providers.OpenAiCompatible;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// Calls on a Responses API response the provider keeps — <c>GET /v1/responses/{id}</c>, <c>DELETE</c>,
/// <c>POST …/cancel</c>, <c>GET …/input_items</c> — passed to the deployment that made it, for the caller that made it
/// (the master key may reach any). The provider does not bill them, but every call that reaches it leaves one ledger
/// record at $0 (endpoint <c>responses.retrieve</c>, <c>.delete</c>, <c>.cancel</c>, <c>.input_items</c>, price source
/// <c>not billed</c>). An id this gateway did not make, or another caller's, is a 404 in OpenAI's error shape.
/// </summary>
public static class KeptResponseEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        foreach (var prefix in new[] { "/v1", string.Empty })
        {
            app.MapGet(prefix + "/responses/{id}", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Get, string.Empty, "responses.retrieve"));
            app.MapDelete(prefix + "/responses/{id}", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Delete, string.Empty, "responses.delete"));
            app.MapPost(prefix + "/responses/{id}/cancel", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Post, "/cancel", "responses.cancel"));
            app.MapGet(prefix + "/responses/{id}/input_items", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Get, "/input_items", "responses.input_items"));
        }
    }

    private static async Task RelayAsync(HttpContext context, string id, HttpMethod method, string suffix, string endpoint)
    {
        var call = await UnbilledCall.BeginOnAsync(context, id, "response");
        if (call is null)
        {
            return;
        }

        var services = context.RequestServices;
        var owner = await services.GetRequiredService<ResponseOwnership>().FindAsync(id, context.RequestAborted);
        var deployment = call.DeploymentOwnedBy(owner?.Caller, owner?.Deployment);
        if (deployment?.Adapter is not OpenAiCompatibleAdapter adapter)
        {
            await call.FailAsync(new GatewayError(StatusCodes.Status404NotFound, "invalid_request_error", "response_not_found",
                $"No response with id '{id}' was made through this gateway for this key."));
            return;
        }

        var result = await adapter.RelayResponseCallAsync(deployment.Config, method, id + suffix, context.Request.QueryString.Value ?? string.Empty, context.RequestAborted);
        await call.FinishAsync(deployment, endpoint, result);
    }
}
