using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Metering.Tokenization;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// What a request can consume, known before it is sent: its prompt tokens (counted once) and its output limit — the
/// request's own <c>max_completion_tokens</c>/<c>max_tokens</c>, else the model's maximum output from the catalogue.
/// Rate limits, budgets and <c>/v1/cost/estimate</c> all read this one estimate.
/// </summary>
public sealed record RequestEstimate(PromptTokenCount Prompt, long? MaxOutputTokens, string MaxOutputSource, TokenPrice? Price)
{
    /// <summary>Assumed by admission when neither the request nor the catalogue says how long an answer may be.</summary>
    public const int DefaultMaxOutputTokens = 4096;

    public static RequestEstimate Of(JsonElement body, Deployment deployment, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var price = (deployment.Pricing.On(DateOnly.FromDateTime(at.UtcDateTime)) as DeploymentPrice.PerToken)?.Price;
        var prompt = PromptTokenCounter.Count(body, deployment.Config.Model);
        foreach (var name in new[] { "max_completion_tokens", "max_tokens" })
        {
            if (body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var limit) && limit > 0)
            {
                return new RequestEstimate(prompt, limit, "request " + name, price);
            }
        }

        return price?.MaxOutputTokens is { } catalogueMax
            ? new RequestEstimate(prompt, catalogueMax, "catalogue maximum", price)
            : new RequestEstimate(prompt, null, "unknown", price);
    }

    /// <summary>Prompt plus output limit: what a TPM limit admits the request on.</summary>
    public long Tokens => Prompt.Tokens + (MaxOutputTokens ?? DefaultMaxOutputTokens);

    /// <summary>
    /// The most the request can cost: every prompt token uncached at the input rate and every allowed output token at
    /// the output rate. Null where the deployment has no per-token price (hourly or unknown).
    /// </summary>
    public decimal? WorstCaseUsd(long? fallbackMaxOutput = DefaultMaxOutputTokens) =>
        Price is not null && (MaxOutputTokens ?? fallbackMaxOutput) is { } output ? CostCalculator.WorstCase(Prompt.Tokens, output, Price) : null;
}
