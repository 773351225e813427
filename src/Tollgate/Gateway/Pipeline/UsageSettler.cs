using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Tollgate.Ledger;
using Tollgate.Metering;
using Tollgate.Metering.Tokenization;
using Tollgate.Optimization.PromptCaching;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Stages 8–9: turns an exchange's outcome into exactly one <see cref="UsageRecord"/> — usage (estimated and flagged
/// when the provider never reported it), price of the day, cost per token kind — and hands it to the ledger.
/// </summary>
public sealed partial class UsageSettler(
    LedgerQueue ledger, Policy.Budgets.BudgetGuard budgets, Errors.SecretScrubber scrubber, Analytics.Metrics.GatewayMetrics metrics,
    Configuration.GatewayConfig config, TimeProvider time, ILogger<UsageSettler> logger)
{
    private readonly ConcurrentDictionary<string, bool> _warnedUnknown = new(StringComparer.Ordinal);

    public async ValueTask<UsageRecord> SettleAsync(Exchange exchange, ExchangeResult result)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(result);
        var usage = FinalUsage(exchange, result);
        if (usage.ToolCalls is not null)
        {
            usage = usage with { ToolCalls = BuiltInToolCalls.AsBilled(usage.ToolCalls, BuiltInToolCalls.Offered(exchange.Body)) };
        }

        var (cost, source, savings) = Price(exchange, usage, result.ProviderAnswered);

        var fingerprint = RequestFingerprint.Of(exchange.Body, exchange.Deployment.Config.Model, config.Storage.RecordPromptHashes);

        // Read after pricing, so an hourly share never covers more time than the recorded latency.
        var end = time.GetTimestamp();
        var record = new UsageRecord
        {
            Id = exchange.RequestId,
            Timestamp = exchange.StartedAt,
            LatencyMs = time.GetElapsedTime(exchange.StartTimestamp, end).TotalMilliseconds,
            TimeToFirstByteMs = exchange.FirstByteTimestamp is { } first ? time.GetElapsedTime(exchange.StartTimestamp, first).TotalMilliseconds : null,
            Attribution = exchange.Attribution,
            Endpoint = EndpointName(exchange.Endpoint),
            Alias = exchange.Alias,
            Deployment = exchange.Deployment.Name,
            Provider = exchange.Deployment.Config.Provider,
            UpstreamModel = exchange.Deployment.Config.Model,
            Stream = exchange.Stream,
            Status = result.Status,
            HttpStatus = result.HttpStatus,
            Attempts = Math.Max(1, exchange.Attempts),
            Usage = usage,
            Cost = cost,
            PriceSource = source,
            CacheSavingsUsd = savings,
            ResponseCacheHit = exchange.ResponseCacheHit,
            ResponseCacheSavedUsd = exchange.ResponseCacheSavedUsd,
            RouteTarget = exchange.Route?.Target,
            RouteReason = exchange.Route?.Reason,
            RouteReferenceCostUsd = exchange.Route is null ? null : exchange.RouteReference?.PriceOf(usage, exchange.StartedAt),
            Error = result.Error is { } error ? scrubber.Scrub(error) : null,
            MaxOutputTokens = fingerprint.MaxOutputTokens,
            PromptPrefixHash = fingerprint.PrefixHash,
            PromptPrefixTokens = fingerprint.PrefixTokens,
            RequestHash = fingerprint.RequestHash,
            QuestionHash = fingerprint.QuestionHash,
            UpstreamRequestId = exchange.UpstreamRequestId,
            PromptFacts = exchange.PromptFacts,
        };
        budgets.Settle(exchange.Reservation, record.Cost.Total ?? 0);
        foreach (var ticket in exchange.TokenTickets)
        {
            ticket.Correct((usage.InputTokens ?? 0) + (usage.OutputTokens ?? 0));
        }

        metrics.Recorded(record);
        Analytics.Telemetry.GenAiTelemetry.Record(record);
        exchange.JournalStartTimestamp = time.GetTimestamp();
        await ledger.EnqueueAsync(record);
        exchange.JournalElapsed = time.GetElapsedTime(exchange.JournalStartTimestamp);
        return record;
    }

    /// <summary>The endpoint as records name it.</summary>
    public static string EndpointName(Providers.GatewayEndpoint endpoint) => endpoint switch
    {
        Providers.GatewayEndpoint.Embeddings => "embeddings",
        Providers.GatewayEndpoint.Completions => "completions",
        Providers.GatewayEndpoint.Responses => "responses",
        Providers.GatewayEndpoint.Messages => "messages",
        _ => "chat.completions",
    };

    /// <summary>
    /// The provider's usage when it reported one. When it did not — a stream cut or cancelled before its usage
    /// chunk — the prompt is counted (exactly, by BPE, for OpenAI families) and the output estimated from the text
    /// actually produced, and the record is flagged as estimated.
    /// </summary>
    private static Usage FinalUsage(Exchange exchange, ExchangeResult result)
    {
        var reported = result.ReportedUsage;
        if (!result.ProviderAnswered || (reported.InputTokens is not null && reported.OutputTokens is not null))
        {
            return reported;
        }

        if (result.Status == RecordStatus.UpstreamError && !reported.IsReported)
        {
            // An error answer is not billed by providers; nothing to estimate.
            return reported;
        }

        return reported with
        {
            InputTokens = reported.InputTokens ?? PromptEstimate(exchange),
            OutputTokens = reported.OutputTokens ?? TokenEstimator.FromCharacters(result.OutputCharacters),
            Estimated = true,
        };
    }

    /// <summary>The prompt count made for admission when it was for this deployment's model family, else a new count.</summary>
    private static long PromptEstimate(Exchange exchange)
    {
        var model = exchange.Deployment.Config.Model;
        return exchange.CountedPrompt is { } counted && counted.Method == PromptTokenCounter.MethodFor(model)
            ? counted.Tokens
            : PromptTokenCounter.Count(exchange.Body, model).Tokens;
    }

    private (CostBreakdown Cost, string Source, decimal? CacheSavings) Price(Exchange exchange, Usage usage, bool providerAnswered)
    {
        var pricing = exchange.Deployment.Pricing;
        if (pricing.Hourly is { } hourly)
        {
            var share = hourly.End(exchange.HourlyMark);
            return (CostBreakdown.Flat(share), "hourly share", null);
        }

        var price = pricing.At(exchange.StartedAt);
        switch (price)
        {
            case DeploymentPrice.PerToken perToken:
                return providerAnswered
                    ? (CostCalculator.Price(usage, perToken.Price), perToken.Source + UnpricedTools(usage, perToken.Price), CachingSavings.Of(usage, perToken.Price))
                    : (CostBreakdown.Flat(0), perToken.Source, 0m);
            case DeploymentPrice.Unknown unknown:
                if (_warnedUnknown.TryAdd(exchange.Deployment.Name, true))
                {
                    LogUnknownPrice(logger, exchange.Deployment.Name, unknown.Reason);
                }

                return (CostBreakdown.Unknown, "unknown: " + unknown.Reason, null);
            default:
                return (CostBreakdown.Unknown, "unknown", null);
        }
    }

    /// <summary>Names the built-in tool calls the price has no rate for (their cost is not in the record's total), or nothing.</summary>
    public static string UnpricedTools(Usage usage, TokenPrice price)
    {
        ArgumentNullException.ThrowIfNull(usage);
        var unpriced = BuiltInToolCalls.Price(usage.ToolCalls, price).Unpriced;
        return unpriced.Count == 0 ? string.Empty : "; tool calls not priced (no rate in the catalogue): " + string.Join(", ", unpriced.Select(t => $"{t.Key} x{t.Value}"));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deployment {Deployment} has no known price ({Reason}); its requests are recorded with cost unknown. Add a price override in the config.")]
    private static partial void LogUnknownPrice(ILogger logger, string deployment, string reason);
}
