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
    private const int MaxIdLength = 256;

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
        var services = context.RequestServices;
        var time = services.GetRequiredService<TimeProvider>();
        var started = time.GetTimestamp();
        var startedAt = time.GetUtcNow();
        var requestId = RequestId.New(startedAt);
        context.Response.Headers[ProxyRequestHandler.RequestIdHeader] = requestId;
        var caller = services.GetRequiredService<Authenticator>().Authenticate(context.Request, out var authError);
        if (caller is null)
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, authError!);
            return;
        }

        using var empty = System.Text.Json.JsonDocument.Parse("{}");
        var (attribution, attributionError) = AttributionReader.Read(context.Request.Headers, empty.RootElement, caller);
        if (attribution is null)
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, attributionError!);
            return;
        }

        if (id.Length is 0 or > MaxIdLength || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, GatewayError.InvalidRequest("The response id must be letters, digits, '_' or '-', at most 256.", "invalid_value", "response_id"));
            return;
        }

        var owner = await services.GetRequiredService<ResponseOwnership>().FindAsync(id, context.RequestAborted);
        var deployment = owner is { } o && (caller.IsMaster || o.Caller == caller.KeyId)
            ? services.GetRequiredService<DeploymentRouter>().All.FirstOrDefault(d => d.Name == o.Deployment)
            : null;
        if (deployment?.Adapter is not OpenAiCompatibleAdapter adapter)
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, new GatewayError(StatusCodes.Status404NotFound, "invalid_request_error", "response_not_found",
                $"No response with id '{id}' was made through this gateway for this key."));
            return;
        }

        var result = await adapter.RelayResponseCallAsync(deployment.Config, method, id + suffix, context.Request.QueryString.Value ?? string.Empty, context.RequestAborted);
        var status = result.Failure is null && result.Value!.IsSuccess ? Ledger.RecordStatus.Ok : Ledger.RecordStatus.UpstreamError;
        var record = new Ledger.UsageRecord
        {
            Id = requestId,
            Timestamp = startedAt,
            LatencyMs = time.GetElapsedTime(started).TotalMilliseconds,
            Attribution = attribution,
            Endpoint = endpoint,
            Alias = deployment.Config.Alias,
            Deployment = deployment.Name,
            Provider = deployment.Config.Provider,
            UpstreamModel = deployment.Config.Model,
            Stream = false,
            Status = status,
            HttpStatus = result.Value?.StatusCode ?? StatusCodes.Status502BadGateway,
            Attempts = 1,
            Usage = Metering.Usage.None,
            Cost = Metering.CostBreakdown.Flat(0),
            PriceSource = "not billed",
            Error = result.Failure is { } f ? services.GetRequiredService<SecretScrubber>().Scrub(f.Message) : null,
        };
        services.GetRequiredService<Analytics.Metrics.GatewayMetrics>().Recorded(record);
        await services.GetRequiredService<Ledger.LedgerQueue>().EnqueueAsync(record);
        if (result.Failure is { } failure)
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, GatewayError.Upstream(StatusCodes.Status502BadGateway,
                services.GetRequiredService<SecretScrubber>().Scrub("The provider could not be reached: " + failure.Message)));
            return;
        }

        var reply = result.Value!;
        foreach (var (name, value) in reply.Headers)
        {
            context.Response.Headers[name] = value;
        }

        context.Response.Headers[ProxyRequestHandler.DeploymentHeader] = deployment.Name;
        context.Response.StatusCode = reply.StatusCode;
        context.Response.ContentType = reply.ContentType;
        var body = reply.IsSuccess ? reply.Body : services.GetRequiredService<SecretScrubber>().Scrub(reply.Body);
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }
}
