using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Tollgate.Batches;
using Tollgate.Configuration;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Policy;
using Tollgate.Policy.Budgets;
using Tollgate.Providers.OpenAiCompatible;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// <c>/v1/batches</c>: a batch is created on a file uploaded through the gateway, for the key that uploaded it. The
/// file's worst case at batch prices is held on the creator's budgets (a hard budget that cannot hold it refuses the
/// batch before the provider sees it) until the batch ends; the batch is charged to the creator's attribution (headers
/// and the batch's <c>metadata</c>). Reads and cancels pass through; the list is the gateway's own, per key.
/// </summary>
public static class BatchEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        foreach (var prefix in new[] { "/v1", string.Empty })
        {
            app.MapPost(prefix + "/batches", CreateAsync);
            app.MapGet(prefix + "/batches", ListAsync);
            app.MapGet(prefix + "/batches/{id}", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Get, string.Empty, "batches.retrieve"));
            app.MapPost(prefix + "/batches/{id}/cancel", (HttpContext c, string id) => RelayAsync(c, id, HttpMethod.Post, "/cancel", "batches.cancel"));
        }
    }

    private static async Task CreateAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var (document, bodyError) = await ReadBodyAsync(context, services.GetRequiredService<GatewayConfig>().MaxRequestBodyBytes);
        using var owned = document;
        var call = await UnbilledCall.BeginAsync(context, document?.RootElement);
        if (call is null)
        {
            return;
        }

        if (bodyError is not null)
        {
            await call.FailAsync(bodyError);
            return;
        }

        var body = document!.RootElement;
        var fileId = body.TryGetProperty("input_file_id", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString()! : null;
        var url = body.TryGetProperty("endpoint", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : null;
        if (fileId is null || BatchRequests.CheckId(fileId, "file") is not null)
        {
            await call.FailAsync(GatewayError.InvalidRequest("'input_file_id' must be the id of a file uploaded through this gateway.", "invalid_value", "input_file_id"));
            return;
        }

        if (!body.TryGetProperty("completion_window", out var window) || window.ValueKind != JsonValueKind.String)
        {
            await call.FailAsync(GatewayError.InvalidRequest("'completion_window' must be a string (\"24h\").", "invalid_value", "completion_window"));
            return;
        }

        if (RequestPolicyEnforcer.MissingTags(services.GetRequiredService<RequestPolicy>(), call.Attribution) is { } tagsError)
        {
            await call.FailAsync(tagsError);
            return;
        }

        var store = services.GetRequiredService<IBatchStore>();
        var file = await store.FindFileAsync(fileId, context.RequestAborted);
        if (file is not { Alias: not null, Bound: not null } || !call.Owns(file.Caller))
        {
            await call.FailAsync(new GatewayError(StatusCodes.Status404NotFound, "invalid_request_error", "file_not_found",
                $"No batch input file with id '{fileId}' was uploaded through this gateway by this key."));
            return;
        }

        if (url != file.Url)
        {
            await call.FailAsync(GatewayError.InvalidRequest($"'endpoint' must be \"{file.Url}\", the endpoint every line of the file calls.", "invalid_value", "endpoint"));
            return;
        }

        if (call.Caller.Key is { } key && !key.Allows(file.Alias))
        {
            await call.FailAsync(new GatewayError(StatusCodes.Status403Forbidden, "permission_error", "model_not_allowed", $"This API key may not use the model '{file.Alias}'."));
            return;
        }

        var deployment = services.GetRequiredService<DeploymentRouter>().All.FirstOrDefault(d => d.Name == file.Deployment);
        if (deployment?.Adapter is not OpenAiCompatibleAdapter adapter)
        {
            await call.FailAsync(GatewayError.InvalidRequest($"The deployment '{file.Deployment}' the file was uploaded to is no longer configured; upload it again.", "deployment_gone", "input_file_id"));
            return;
        }

        var (admitted, hold) = await BatchRequests.AdmitAsync(call, context, file.Bound);
        if (!admitted)
        {
            return;
        }

        using var content = new ReadOnlyMemoryContent(JsonMarshalRaw(body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var result = await adapter.RelayAccountCallAsync(deployment.Config, HttpMethod.Post, "batches", string.Empty, content, context.RequestAborted);
        await BatchRequests.TrackOrReleaseAsync(services, call, OpenAiBatchApi.ApiName, deployment, file.Alias!, file.Url!, file.Bound, hold, result);
        await call.FinishAsync(deployment, "batches.create", result);
    }

    private static async Task RelayAsync(HttpContext context, string id, HttpMethod method, string suffix, string endpoint)
    {
        var call = await UnbilledCall.BeginOnAsync(context, id, "batch");
        if (call is null)
        {
            return;
        }

        var services = context.RequestServices;
        var batch = await services.GetRequiredService<IBatchStore>().FindBatchAsync(id, context.RequestAborted);
        var deployment = call.DeploymentOwnedBy(batch?.Caller, batch?.Deployment);
        if (deployment?.Adapter is not OpenAiCompatibleAdapter adapter)
        {
            await call.FailAsync(new GatewayError(StatusCodes.Status404NotFound, "invalid_request_error", "batch_not_found",
                $"No batch with id '{id}' was created through this gateway for this key."));
            return;
        }

        var result = await adapter.RelayAccountCallAsync(deployment.Config, method, "batches/" + id + suffix, string.Empty, null, context.RequestAborted);
        if (result.Value is { IsSuccess: true } reply)
        {
            // What the client sees, the gateway learns: an ended batch is settled before the answer is given.
            await services.GetRequiredService<BatchTracker>().ObserveAsync(batch!, reply.Body, polled: false, CancellationToken.None);
        }

        await call.FinishAsync(deployment, endpoint, result);
    }

    /// <summary>The caller's batches as last seen, newest first (<c>limit</c> 1–100, <c>after</c> a batch id), in OpenAI's list shape.</summary>
    private static async Task ListAsync(HttpContext context)
    {
        if (await UnbilledCall.BeginAsync(context) is { } call)
        {
            await BatchRequests.ListAsync(context, call, OpenAiBatchApi.ApiName, maxLimit: 100, "after", openAiShape: true);
        }
    }

    private static async Task<(JsonDocument? Document, GatewayError? Error)> ReadBodyAsync(HttpContext context, long maxBytes)
    {
        byte[] bytes;
        try
        {
            bytes = await Providers.WholeBody.ReadAsync(context.Request.Body, context.Request.ContentLength, maxBytes, context.RequestAborted);
        }
        catch (Providers.WholeBody.TooLargeException)
        {
            return (null, GatewayError.BodyTooLarge(maxBytes));
        }
        catch (Exception ex) when (ex is EndOfStreamException or BadHttpRequestException)
        {
            return (null, GatewayError.InvalidRequest("The request body could not be read whole."));
        }

        try
        {
            var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                return (null, GatewayError.InvalidRequest("The request body must be a JSON object."));
            }

            if (RequestBodyReader.TextError(bytes, document.RootElement) is { } textError)
            {
                document.Dispose();
                return (null, textError);
            }

            return (document, null);
        }
        catch (JsonException ex)
        {
            return (null, GatewayError.InvalidRequest($"The request body is not valid JSON: {ex.Message}", "invalid_json"));
        }
    }

    private static ReadOnlyMemory<byte> JsonMarshalRaw(JsonElement element) => System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element).ToArray();
}
