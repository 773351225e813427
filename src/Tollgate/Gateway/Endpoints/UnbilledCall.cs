using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Providers;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// A call the provider does not bill — reading, cancelling or deleting something it keeps (a Responses API response,
/// a file, a batch) — made for an authenticated caller. Like every call that reaches a provider it leaves exactly one
/// ledger record, at $0 with price source <c>not billed</c>; the provider's answer is passed on as it came (an error
/// body scrubbed of secrets).
/// </summary>
public sealed class UnbilledCall
{
    private readonly HttpContext _context;
    private readonly TimeProvider _time;
    private readonly long _started;

    private readonly GatewayEndpoint _errorShape;

    private UnbilledCall(HttpContext context, CallerIdentity caller, Attribution attribution, string requestId, DateTimeOffset startedAt, long started, TimeProvider time, GatewayEndpoint errorShape)
    {
        _context = context;
        _errorShape = errorShape;
        Caller = caller;
        Attribution = attribution;
        RequestId = requestId;
        StartedAt = startedAt;
        _started = started;
        _time = time;
    }

    public CallerIdentity Caller { get; }

    /// <summary>Who the call is charged to (its headers, and the body's <c>metadata</c>/<c>user</c> when it has a body).</summary>
    public Attribution Attribution { get; }

    public string RequestId { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>The owner name of the caller: its key id, or <c>master</c>.</summary>
    public string Owner => Responses.ResponseOwnership.CallerOf(Caller.KeyId);

    /// <summary>Whether the caller may act on something made by <paramref name="owner"/> (its own, or any for the master key).</summary>
    public bool Owns(string owner) => Caller.IsMaster || owner == Owner;

    /// <summary>The deployment named <paramref name="deployment"/>, when the caller may act on what <paramref name="owner"/> made there; else null.</summary>
    public Deployment? DeploymentOwnedBy(string? owner, string? deployment) =>
        owner is not null && Owns(owner) ? _context.RequestServices.GetRequiredService<DeploymentRouter>().All.FirstOrDefault(d => d.Name == deployment) : null;

    /// <summary>Authenticates and attributes the call; null when refused (the error has been written).</summary>
    /// <param name="context">The request.</param>
    /// <param name="body">Its JSON body, when it has one: attribution may come from its <c>metadata</c>.</param>
    /// <param name="errorShape">Whose error JSON refusals take: Anthropic's for <see cref="GatewayEndpoint.Messages"/>, else OpenAI's.</param>
    public static async Task<UnbilledCall?> BeginAsync(HttpContext context, JsonElement? body = null, GatewayEndpoint errorShape = GatewayEndpoint.ChatCompletions)
    {
        ArgumentNullException.ThrowIfNull(context);
        var services = context.RequestServices;
        var time = services.GetRequiredService<TimeProvider>();
        var started = time.GetTimestamp();
        var startedAt = time.GetUtcNow();
        var requestId = Pipeline.RequestId.New(startedAt);
        context.Response.Headers[ProxyRequestHandler.RequestIdHeader] = requestId;
        var caller = services.GetRequiredService<Authenticator>().Authenticate(context.Request, out var authError);
        if (caller is null)
        {
            await ErrorResponder.WriteAsync(context.Response, errorShape, authError!);
            return null;
        }

        using var empty = body is null ? JsonDocument.Parse("{}") : null;
        var (attribution, attributionError) = AttributionReader.Read(context.Request.Headers, body ?? empty!.RootElement, caller);
        if (attribution is null)
        {
            await ErrorResponder.WriteAsync(context.Response, errorShape, attributionError!);
            return null;
        }

        return new UnbilledCall(context, caller, attribution, requestId, startedAt, started, time, errorShape);
    }

    /// <summary>
    /// Authenticates and attributes a call on something the provider keeps under <paramref name="id"/> (a
    /// <paramref name="what"/>: response, file, batch); null when refused — a bad key, or an id that is not letters,
    /// digits, '_' or '-' (at most 256) — the error written.
    /// </summary>
    public static async Task<UnbilledCall?> BeginOnAsync(HttpContext context, string id, string what, GatewayEndpoint errorShape = GatewayEndpoint.ChatCompletions)
    {
        ArgumentNullException.ThrowIfNull(id);
        var call = await BeginAsync(context, errorShape: errorShape);
        if (call is not null && BatchRequests.CheckId(id, what) is { } idError)
        {
            await call.FailAsync(idError);
            return null;
        }

        return call;
    }

    /// <summary>Writes <paramref name="error"/> as the answer.</summary>
    public Task FailAsync(GatewayError error) => ErrorResponder.WriteAsync(_context.Response, _errorShape, error);

    /// <summary>Writes the call's $0 record (named <paramref name="endpoint"/>) and, when <paramref name="relay"/> is set, passes the provider's answer on.</summary>
    public async Task FinishAsync(Deployment deployment, string endpoint, ProviderResult<UpstreamReply> result, bool relay = true)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var services = _context.RequestServices;
        var scrubber = services.GetRequiredService<SecretScrubber>();
        var record = new UsageRecord
        {
            Id = RequestId,
            Timestamp = StartedAt,
            LatencyMs = _time.GetElapsedTime(_started).TotalMilliseconds,
            Attribution = Attribution,
            Endpoint = endpoint,
            Alias = deployment.Config.Alias,
            Deployment = deployment.Name,
            Provider = deployment.Config.Provider,
            UpstreamModel = deployment.Config.Model,
            Stream = false,
            Status = result.Failure is null && result.Value!.IsSuccess ? RecordStatus.Ok : RecordStatus.UpstreamError,
            HttpStatus = result.Value?.StatusCode ?? StatusCodes.Status502BadGateway,
            Attempts = 1,
            Usage = Metering.Usage.None,
            Cost = Metering.CostBreakdown.Flat(0),
            PriceSource = "not billed",
            Error = result.Failure is { } f ? scrubber.Scrub(f.Message) : null,
        };
        services.GetRequiredService<Analytics.Metrics.GatewayMetrics>().Recorded(record);
        await services.GetRequiredService<LedgerQueue>().EnqueueAsync(record);
        if (relay)
        {
            await RelayAsync(deployment, result);
        }
    }

    /// <summary>Passes the provider's answer on: its status, headers and body, or a 502 when it could not be reached.</summary>
    public async Task RelayAsync(Deployment deployment, ProviderResult<UpstreamReply> result, ReadOnlyMemory<byte>? body = null)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var scrubber = _context.RequestServices.GetRequiredService<SecretScrubber>();
        if (result.Failure is { } failure)
        {
            await FailAsync(GatewayError.Upstream(StatusCodes.Status502BadGateway, scrubber.Scrub("The provider could not be reached: " + failure.Message)));
            return;
        }

        var reply = result.Value!;
        var response = _context.Response;
        foreach (var (name, value) in reply.Headers)
        {
            response.Headers[name] = value;
        }

        response.Headers[ProxyRequestHandler.DeploymentHeader] = deployment.Name;
        response.StatusCode = reply.StatusCode;
        response.ContentType = reply.ContentType;
        var content = body ?? (reply.IsSuccess ? reply.Body : scrubber.Scrub(reply.Body));
        response.ContentLength = content.Length;
        await response.Body.WriteAsync(content, _context.RequestAborted);
    }
}
