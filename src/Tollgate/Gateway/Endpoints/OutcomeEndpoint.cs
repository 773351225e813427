using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Tollgate.Analytics.UnitEconomics;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// <c>POST /v1/outcomes</c>, with any valid key: the application reports what a request (or a user's use of a
/// feature) earned — <c>{"request_id": "req_…", "conversions": 1, "revenue_usd": 0.031}</c>, or <c>user</c> and/or
/// <c>feature</c> instead of <c>request_id</c>. Answers 201 with the stored outcome.
/// </summary>
public static class OutcomeEndpoint
{
    public static async Task HandleAsync(HttpContext context, Authenticator auth, IOutcomeStore store, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        var caller = auth.Authenticate(context.Request, out var authError);
        if (caller is null)
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, authError!);
            return;
        }

        Body? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<Body>(context.Request.Body, AdminJson.Options, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, AdminJson.Unreadable(ex, "outcome"));
            return;
        }

        var error = body switch
        {
            null => GatewayError.InvalidRequest("The body must be a JSON object.", "invalid_json"),
            { RequestId: null, User: null, Feature: null } => GatewayError.InvalidRequest("An outcome needs a 'request_id', or a 'user' and/or 'feature'.", "missing_required_parameter", "request_id"),
            { RevenueUsd: < 0 } => GatewayError.InvalidRequest("'revenue_usd' must not be negative (report a refund as its own negative-margin cost instead).", "invalid_value", "revenue_usd"),
            { Conversions: < 0 } => GatewayError.InvalidRequest("'conversions' must not be negative.", "invalid_value", "conversions"),
            _ => null,
        };
        if (error is not null)
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, error);
            return;
        }

        var outcome = new Outcome(
            "out_" + Guid.CreateVersion7(time.GetUtcNow()).ToString("N"), body!.At ?? time.GetUtcNow(), body.RequestId, body.User, body.Feature,
            body.Conversions ?? 1, body.RevenueUsd ?? 0, caller.KeyId);
        await store.AddAsync(outcome, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status201Created;
        await context.Response.WriteAsJsonAsync(new
        {
            id = outcome.Id,
            at = outcome.At,
            request_id = outcome.RequestId,
            user = outcome.User,
            feature = outcome.Feature,
            conversions = outcome.Conversions,
            revenue_usd = outcome.RevenueUsd,
        }, AdminJson.Options, context.RequestAborted);
    }

    private sealed record Body(
        [property: JsonPropertyName("request_id")] string? RequestId,
        string? User,
        string? Feature,
        long? Conversions,
        [property: JsonPropertyName("revenue_usd")] decimal? RevenueUsd,
        DateTimeOffset? At);
}
