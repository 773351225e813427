using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Tollgate.Batches;
using Tollgate.Configuration;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Policy;
using Tollgate.Providers;
using Tollgate.Providers.Anthropic;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// Anthropic's Message Batches API, <c>/v1/messages/batches</c>, for <c>provider: anthropic</c> aliases: the requests
/// come inline, each held to the rules of a realtime <c>/v1/messages</c> call, their model made the deployment's and
/// their worst case at batch prices held on the creator's budgets until the batch ends. Reads, cancels, results and
/// deletes pass through for the key that created the batch; the list is the gateway's own, per key. Errors are in
/// Anthropic's shape.
/// </summary>
public static class MessageBatchEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/v1/messages/batches", CreateAsync);
        app.MapGet("/v1/messages/batches", ListAsync);
        app.MapGet("/v1/messages/batches/{id}", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Get, string.Empty, "messages.batches.retrieve"));
        app.MapPost("/v1/messages/batches/{id}/cancel", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Post, "/cancel", "messages.batches.cancel"));
        app.MapGet("/v1/messages/batches/{id}/results", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Get, "/results", "messages.batches.results"));
        app.MapDelete("/v1/messages/batches/{id}", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Delete, string.Empty, "messages.batches.delete"));
    }

    private static async Task CreateAsync(HttpContext context)
    {
        var call = await UnbilledCall.BeginAsync(context, errorShape: GatewayEndpoint.Messages);
        if (call is null)
        {
            return;
        }

        var services = context.RequestServices;
        var settings = services.GetRequiredService<BatchSettings>();
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = settings.MaxFileBytes;
        }

        byte[] bytes;
        try
        {
            bytes = await WholeBody.ReadAsync(context.Request.Body, context.Request.ContentLength, settings.MaxFileBytes, context.RequestAborted);
        }
        catch (Exception ex) when (ex is WholeBody.TooLargeException || (ex is BadHttpRequestException bad && bad.StatusCode == StatusCodes.Status413PayloadTooLarge))
        {
            await call.FailAsync(GatewayError.BodyTooLarge(settings.MaxFileBytes));
            return;
        }
        catch (Exception ex) when (ex is EndOfStreamException or BadHttpRequestException)
        {
            await call.FailAsync(GatewayError.InvalidRequest("The request body could not be read whole."));
            return;
        }

        if (RequestPolicyEnforcer.MissingTags(services.GetRequiredService<RequestPolicy>(), call.Attribution) is { } tagsError)
        {
            await call.FailAsync(tagsError);
            return;
        }

        var (input, inputError) = BatchInput.ReadMessageBatch(bytes);
        if (input is null)
        {
            await call.FailAsync(inputError!);
            return;
        }

        using (input)
        {
            if (await BatchRequests.PrepareAsync(call, services, input, d => d.Adapter is AnthropicAdapter, "message batches run on provider: anthropic deployments") is not { } prepared)
            {
                return;
            }

            var (deployment, body, bound) = prepared;
            var (admitted, hold) = await BatchRequests.AdmitAsync(call, context, bound);
            if (!admitted)
            {
                return;
            }

            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            var result = await ((AnthropicAdapter)deployment.Adapter).RelayBatchCallAsync(deployment.Config, HttpMethod.Post, string.Empty, content, context.RequestAborted);
            await BatchRequests.TrackOrReleaseAsync(services, call, AnthropicBatchApi.ApiName, deployment, input.Model, input.Url, bound, hold, result);
            await call.FinishAsync(deployment, "messages.batches.create", result);
        }
    }

    private static async Task RelayAsync(HttpContext context, string id, HttpMethod method, string suffix, string endpoint)
    {
        var call = await UnbilledCall.BeginOnAsync(context, id, "batch", GatewayEndpoint.Messages);
        if (call is null)
        {
            return;
        }

        var services = context.RequestServices;
        var batch = await services.GetRequiredService<IBatchStore>().FindBatchAsync(id, context.RequestAborted);
        var deployment = batch is { Api: AnthropicBatchApi.ApiName } ? call.DeploymentOwnedBy(batch.Caller, batch.Deployment) : null;
        if (deployment?.Adapter is not AnthropicAdapter adapter)
        {
            await call.FailAsync(new GatewayError(StatusCodes.Status404NotFound, "not_found_error", "batch_not_found",
                $"No message batch with id '{id}' was created through this gateway for this key."));
            return;
        }

        var result = await adapter.RelayBatchCallAsync(deployment.Config, method, "/" + id + suffix, null, context.RequestAborted);
        if (result.Value is { IsSuccess: true } reply && suffix != "/results")
        {
            await services.GetRequiredService<BatchTracker>().ObserveAsync(batch!, reply.Body, polled: false, CancellationToken.None);
        }

        await call.FinishAsync(deployment, endpoint, result);
    }

    /// <summary>The caller's message batches as last seen, newest first (<c>limit</c> 1–1000, <c>after_id</c>), in Anthropic's list shape.</summary>
    private static async Task ListAsync(HttpContext context)
    {
        if (await UnbilledCall.BeginAsync(context, errorShape: GatewayEndpoint.Messages) is not { } call)
        {
            return;
        }

        if (context.Request.Query.ContainsKey("before_id"))
        {
            await call.FailAsync(GatewayError.InvalidRequest("This gateway pages message batches forward only: use 'after_id' (the last id of the page before).", "invalid_request_error", "before_id"));
            return;
        }

        await BatchRequests.ListAsync(context, call, AnthropicBatchApi.ApiName, maxLimit: 1000, "after_id", openAiShape: false);
    }
}
