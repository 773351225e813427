using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tollgate.Batches;
using Tollgate.Configuration;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Policy;
using Tollgate.Policy.Budgets;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// The steps every batch API shares (OpenAI's <c>/v1/files</c> + <c>/v1/batches</c>, Anthropic's
/// <c>/v1/messages/batches</c>): choosing the deployment, putting each request through the policy and bounding its cost,
/// holding the worst case on the budgets, following the batch the provider made, and listing the caller's batches.
/// Each step that refuses writes its error and returns nothing.
/// </summary>
internal static class BatchRequests
{
    /// <summary>Provider ids (<c>file-…</c>, <c>batch_…</c>, <c>msgbatch_…</c>) are letters, digits, '_' and '-'; anything else is refused before a look-up.</summary>
    public static GatewayError? CheckId(string id, string what) =>
        id.Length is 0 or > 256 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? GatewayError.InvalidRequest($"The {what} id must be letters, digits, '_' or '-', at most 256.", "invalid_value", what + "_id")
            : null;

    /// <summary>The <c>id</c> of a provider's JSON object (a file, a batch), or null.</summary>
    public static string? IdOf(ReadOnlyMemory<byte> body) => Responses.ResponseOwnership.IdOf(body);

    /// <summary>
    /// The deployment the batch runs on (the alias's first one that <paramref name="canRun"/> it) and the requests as the
    /// provider gets them — models rewritten, the request policy applied — with their worst case; null when refused.
    /// </summary>
    public static async Task<(Deployment Deployment, byte[] Body, BatchBound Bound)?> PrepareAsync(
        UnbilledCall call, IServiceProvider services, BatchInput input, Func<Deployment, bool> canRun, string whereBatchesRun)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(input);
        var (deployment, deploymentError) = DeploymentFor(services, call.Caller, input, canRun, whereBatchesRun);
        if (deployment is null)
        {
            await call.FailAsync(deploymentError!);
            return null;
        }

        var policy = services.GetRequiredService<RequestPolicy>();
        var (body, bound, prepareError) = input.Prepare(deployment, call.StartedAt, request =>
        {
            var error = RequestPolicyEnforcer.Apply(policy, call.Attribution, request, input.Endpoint, out var rewritten, call.Caller.Key?.MaxTokensCap, call.Caller.Key?.MaxTokensDefault);
            return (error, rewritten);
        });
        if (body is null)
        {
            await call.FailAsync(prepareError!);
            return null;
        }

        return (deployment, body, bound!);
    }

    private static (Deployment? Deployment, GatewayError? Error) DeploymentFor(
        IServiceProvider services, CallerIdentity caller, BatchInput input, Func<Deployment, bool> canRun, string whereBatchesRun)
    {
        if (caller.Key is { } key && !key.Allows(input.Model))
        {
            return (null, new GatewayError(StatusCodes.Status403Forbidden, "permission_error", "model_not_allowed", $"This API key may not use the model '{input.Model}'.", "model"));
        }

        if (services.GetRequiredService<Routing.RouterTable>().Find(input.Model) is not null)
        {
            return (null, GatewayError.InvalidRequest(
                $"'{input.Model}' is a router; a batch runs on one model: name one of its targets in the file.", "unsupported_endpoint", "model"));
        }

        var deployments = services.GetRequiredService<DeploymentRouter>().All.Where(d => d.Config.Alias == input.Model).ToList();
        if (deployments.Count == 0)
        {
            return (null, GatewayError.ModelNotFound(input.Model));
        }

        return deployments.FirstOrDefault(canRun) is { } deployment
            ? (deployment, null)
            : (null, GatewayError.InvalidRequest(
                $"The model '{input.Model}' is served by {deployments[0].Config.Provider}, whose batches cannot be run here: {whereBatchesRun}.",
                "unsupported_endpoint", "model"));
    }

    /// <summary>
    /// Holds a batch's worst case on the caller's budgets; false when a budget refuses it (the error has been written).
    /// The hold is null when no budget applies.
    /// </summary>
    public static async Task<(bool Admitted, BudgetReservation? Hold)> AdmitAsync(UnbilledCall call, HttpContext context, BatchBound bound)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(bound);
        var budgets = context.RequestServices.GetRequiredService<BudgetGuard>();
        if (!budgets.Any)
        {
            return (true, null);
        }

        var (reservation, budgetError, remaining) = await budgets.AdmitAsync(call.Attribution, bound.WorstCaseUsd, bound.Unbounded, context.RequestAborted);
        if (budgetError is not null)
        {
            await call.FailAsync(budgetError);
            return (false, null);
        }

        if (remaining is { } left)
        {
            context.Response.Headers[ProxyRequestHandler.BudgetRemainingHeader] = Math.Max(0, left).ToString(CultureInfo.InvariantCulture);
        }

        return (true, reservation);
    }

    /// <summary>Follows the batch the provider created (its hold kept until it ends), or releases the hold when none was made.</summary>
    public static async Task TrackOrReleaseAsync(IServiceProvider services, UnbilledCall call, string api, Deployment deployment, string alias, string url,
        BatchBound bound, BudgetReservation? hold, Providers.ProviderResult<Providers.UpstreamReply> result)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(call);
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(bound);
        var tracker = services.GetRequiredService<BatchTracker>();
        if (result.Value is { IsSuccess: true } reply && IdOf(reply.Body) is { } batchId && tracker.StatusOf(api, reply.Body) is { } status)
        {
            var settings = services.GetRequiredService<BatchSettings>();
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            await tracker.TrackAsync(new TrackedBatch
            {
                Id = batchId,
                Api = api,
                Deployment = deployment.Name,
                Alias = alias,
                Provider = deployment.Config.Provider,
                Model = deployment.Config.Model,
                Caller = call.Owner,
                Attribution = call.Attribution,
                Url = url,
                ReservedUsd = hold?.AmountUsd ?? bound.WorstCaseUsd,
                Status = status,
                Object = System.Text.Encoding.UTF8.GetString(reply.Body.Span),
                CreatedAt = now,
                NextPollAt = now + settings.PollInterval,
                PollDelay = settings.PollInterval,
            }, hold, CancellationToken.None);
        }
        else
        {
            // No batch was made: nothing will be spent.
            services.GetRequiredService<BudgetGuard>().Settle(hold, 0);
        }
    }

    /// <summary>
    /// The caller's batches of <paramref name="api"/> as last seen, newest first: <c>limit</c> (1 to
    /// <paramref name="maxLimit"/>, 20 by default) after the batch named by <paramref name="afterParameter"/>, with
    /// <c>first_id</c>, <c>last_id</c> and <c>has_more</c> (and <c>object: list</c> in OpenAI's shape).
    /// </summary>
    public static async Task ListAsync(HttpContext context, UnbilledCall call, string api, int maxLimit, string afterParameter, bool openAiShape)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(call);
        var query = context.Request.Query;
        var limit = 20;
        if (query.ContainsKey("limit") && (!int.TryParse(query["limit"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > maxLimit))
        {
            await call.FailAsync(GatewayError.InvalidRequest($"'limit' must be a whole number from 1 to {maxLimit}.", "invalid_value", "limit"));
            return;
        }

        var after = query.ContainsKey(afterParameter) ? query[afterParameter].ToString() : null;
        if (after is not null && CheckId(after, "batch") is { } afterError)
        {
            await call.FailAsync(afterError with { Param = afterParameter });
            return;
        }

        var batches = await context.RequestServices.GetRequiredService<IBatchStore>().ListAsync(api, call.Caller.IsMaster ? null : call.Owner, after, limit + 1, context.RequestAborted);
        var shown = batches.Take(limit).ToList();
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        if (openAiShape)
        {
            writer.WriteString("object", "list");
        }

        writer.WriteStartArray("data");
        foreach (var batch in shown)
        {
            writer.WriteRawValue(batch.Object, skipInputValidation: false);
        }

        writer.WriteEndArray();
        writer.WriteString("first_id", shown.FirstOrDefault()?.Id);
        writer.WriteString("last_id", shown.LastOrDefault()?.Id);
        writer.WriteBoolean("has_more", batches.Count > limit);
        writer.WriteEndObject();
    }
}
