using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Metering.Tokenization;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// What a request can consume, known before it is sent: its prompt tokens (counted once, with their bound), its
/// output limit — the request's own <c>max_completion_tokens</c>/<c>max_tokens</c>, else the model's maximum output
/// from the catalogue — and what multiplies it (<c>n</c> choices, a prediction's unused tokens). Rate limits,
/// budgets and <c>/v1/cost/estimate</c> all read this one estimate.
/// </summary>
public sealed record RequestEstimate(PromptTokenCount Prompt, long? MaxOutputTokens, string MaxOutputSource, TokenPrice? Price)
{
    /// <summary>Assumed by TPM admission when neither the request nor the catalogue says how long an answer may be.</summary>
    public const int DefaultMaxOutputTokens = 4096;

    /// <summary>Choices the provider generates and bills (<c>n</c>).</summary>
    public int Choices { get; init; } = 1;

    /// <summary>A prediction's tokens, billed as output when the answer does not use them.</summary>
    public long PredictionTokens { get; init; }

    /// <summary>The request may write the provider's prompt cache (<c>cache_control</c>), billed above the input rate.</summary>
    public bool WritesCache { get; init; }

    /// <summary>Why the deployment has no price (null when it is priced per token or per hour).</summary>
    public string? Unpriced { get; init; }

    /// <summary>Built-in tools the request offers that the provider bills per call (Responses API), by kind.</summary>
    public IReadOnlyList<string> BuiltInTools { get; init; } = [];

    /// <summary>The request's <c>max_tool_calls</c>: what bounds the built-in tool calls it can be billed for.</summary>
    public long? MaxToolCalls { get; init; }

    /// <param name="body">The request body.</param>
    /// <param name="rawBody">The same body's bytes (searched, not parsed, for <c>cache_control</c>).</param>
    /// <param name="deployment">The deployment the request would be sent to.</param>
    /// <param name="at">When: prices are looked up for this day.</param>
    public static RequestEstimate Of(JsonElement body, ReadOnlySpan<byte> rawBody, Deployment deployment, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var priceOfDay = deployment.Pricing.At(at);
        var price = (priceOfDay as DeploymentPrice.PerToken)?.Price;
        var model = deployment.Config.Model;
        var (limit, source) = OutputLimit(body, price);
        return new RequestEstimate(PromptTokenCounter.Count(body, model), limit, source, price)
        {
            Choices = RequestFields.Choices(body),
            PredictionTokens = PromptTokenCounter.PredictionBound(body, model),
            WritesCache = deployment.Config.AutoCacheSystemPromptMinTokens is not null || rawBody.IndexOf("\"cache_control\""u8) >= 0,
            Unpriced = (priceOfDay as DeploymentPrice.Unknown)?.Reason,
            BuiltInTools = BuiltInToolCalls.Offered(body),
            MaxToolCalls = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("max_tool_calls", out var maxCalls) && maxCalls.ValueKind == JsonValueKind.Number
                && maxCalls.TryGetInt64(out var calls) && calls > 0 ? calls : null,
        };
    }

    private static (long? Limit, string Source) OutputLimit(JsonElement body, TokenPrice? price)
    {
        foreach (var name in new[] { "max_completion_tokens", "max_tokens", "max_output_tokens" })
        {
            if (body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var limit) && limit > 0)
            {
                return (limit, "request " + name);
            }
        }

        return price?.MaxOutputTokens is { } catalogueMax ? (catalogueMax, "catalogue maximum") : (null, "unknown");
    }

    /// <summary>The most output tokens the provider can bill: every choice at the limit, plus a prediction's unused tokens.</summary>
    public long? MaxBilledOutputTokens(long? fallbackMaxOutput = null) =>
        (MaxOutputTokens ?? fallbackMaxOutput) is { } max ? (Choices * max) + PredictionTokens : null;

    /// <summary>The prompt's bound plus the billed output bound: what a TPM limit admits the request on.</summary>
    public long Tokens => Prompt.UpperBound + MaxBilledOutputTokens(DefaultMaxOutputTokens)!.Value;

    /// <summary>
    /// The most the request can cost: the prompt's bound at the highest input rate it can be billed at (a cache write
    /// when it may write the cache) and the billed output bound at the output rate. Null where the deployment has no
    /// per-token price (hourly or unknown) or the output has no known limit.
    /// </summary>
    public decimal? WorstCaseUsd() =>
        Price is not null && MaxBilledOutputTokens() is { } output ? CostCalculator.WorstCase(Prompt.UpperBound, output, Price, WritesCache) + ToolCallsWorstCase(Price) : null;

    /// <summary>Every allowed built-in tool call at the dearest rate among the tools offered (0 when none is offered or bounded).</summary>
    private decimal ToolCallsWorstCase(TokenPrice price) =>
        BuiltInTools.Count == 0 || MaxToolCalls is not { } calls ? 0
            : calls * BuiltInTools.Max(tool => price.ToolCallPrices?.GetValueOrDefault(tool) ?? 0);

    /// <summary>
    /// Why a hard budget cannot hold this request's cost in advance, or null when <see cref="WorstCaseUsd"/> bounds it
    /// (a deployment priced per hour reserves nothing and is bounded by its hours).
    /// </summary>
    public string? CannotBound(Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        if (Unpriced is not null)
        {
            return $"the model '{deployment.Config.Model}' (deployment '{deployment.Name}') has no price ({Unpriced}): give the deployment a 'price:' in the config, or add the model with 'tollgate prices import'";
        }

        if (Prompt.Unbounded is { } part)
        {
            return $"the request holds {part}, whose tokens the gateway cannot count before the call";
        }

        if (Price is not null && MaxOutputTokens is null)
        {
            return $"the request sets no 'max_tokens' and the catalogue does not know the maximum output of '{deployment.Config.Model}': set 'max_tokens'";
        }

        if (BuiltInTools.Count > 0 && MaxToolCalls is null)
        {
            return $"the request offers built-in tools billed per call ({string.Join(", ", BuiltInTools)}) and sets no 'max_tool_calls': set it to bound them";
        }

        return Price is not null && BuiltInTools.FirstOrDefault(tool => Price.ToolCallPrices?.ContainsKey(tool) != true) is { } unpricedTool
            ? $"the catalogue has no per-call price for the built-in tool '{unpricedTool}' on '{deployment.Config.Model}'"
            : null;
    }
}
