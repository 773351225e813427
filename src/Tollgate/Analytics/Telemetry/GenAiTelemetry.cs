using System.Diagnostics;
using System.Diagnostics.Metrics;
using Tollgate.Ledger;

namespace Tollgate.Analytics.Telemetry;

/// <summary>
/// Each usage record as an OpenTelemetry span and metrics, after the OpenTelemetry GenAI semantic conventions — the
/// operation, provider, requested and answering model, token usage by kind — with what the conventions do not cover
/// under <c>tollgate.*</c>: the exact cost, the attribution (user, feature, cost centre, project, key, tags), the
/// record's status and ids. The span is made from the record when it is written (its start and end are the request's),
/// so nothing is held while the request runs; the export is batched off the request path by the OpenTelemetry SDK, and
/// with nothing listening (no <c>telemetry.otlp_endpoint</c>) nothing is made at all.
/// </summary>
public static class GenAiTelemetry
{
    public const string SourceName = "Tollgate.Gateway";

    private static readonly ActivitySource Source = new(SourceName);
    private static readonly Meter Meter = new(SourceName);
    private static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Tokens used by a request, by kind.");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "How long a request took.");
    private static readonly Counter<double> Cost = Meter.CreateCounter<double>("tollgate.cost", "USD", "What requests cost, priced exactly by the gateway.");

    /// <summary>The GenAI operation name of a record's endpoint.</summary>
    public static string OperationOf(string endpoint) => endpoint switch
    {
        "embeddings" or "batch.embeddings" => "embeddings",
        "completions" or "batch.completions" => "text_completion",
        _ => "chat",
    };

    public static void Record(UsageRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var operation = OperationOf(record.Endpoint);
        if (Source.HasListeners())
        {
            Span(record, operation);
        }

        if (TokenUsage.Enabled || Duration.Enabled || Cost.Enabled)
        {
            var tags = new TagList
            {
                { "gen_ai.operation.name", operation },
                { "gen_ai.provider.name", record.Provider },
                { "gen_ai.request.model", record.Alias },
                { "gen_ai.response.model", record.UpstreamModel },
            };
            if (record.Usage.InputTokens is { } input)
            {
                var inputTags = tags;
                inputTags.Add("gen_ai.token.type", "input");
                TokenUsage.Record(input, inputTags);
            }

            if (record.Usage.OutputTokens is { } output)
            {
                var outputTags = tags;
                outputTags.Add("gen_ai.token.type", "output");
                TokenUsage.Record(output, outputTags);
            }

            Duration.Record(record.LatencyMs / 1000, tags);
            if (record.Cost.Total is { } cost)
            {
                var costTags = tags;
                costTags.Add("tollgate.feature", record.Attribution.Feature ?? string.Empty);
                Cost.Add((double)cost, costTags);
            }
        }
    }

    private static void Span(UsageRecord record, string operation)
    {
        using var activity = Source.StartActivity($"{operation} {record.Alias}", ActivityKind.Client, Activity.Current?.Context ?? default, startTime: record.Timestamp);
        if (activity is null)
        {
            return;
        }

        var a = record.Attribution;
        var u = record.Usage;
        activity.SetTag("gen_ai.operation.name", operation);
        activity.SetTag("gen_ai.provider.name", record.Provider);
        activity.SetTag("gen_ai.system", record.Provider);
        activity.SetTag("gen_ai.request.model", record.Alias);
        activity.SetTag("gen_ai.response.model", record.UpstreamModel);
        activity.SetTag("gen_ai.request.max_tokens", record.MaxOutputTokens);
        activity.SetTag("gen_ai.usage.input_tokens", u.InputTokens);
        activity.SetTag("gen_ai.usage.output_tokens", u.OutputTokens);
        activity.SetTag("gen_ai.response.id", record.UpstreamRequestId);
        activity.SetTag("tollgate.usage.cached_input_tokens", u.CachedInputTokens);
        activity.SetTag("tollgate.usage.cache_write_tokens", u.CacheWriteTokens);
        activity.SetTag("tollgate.usage.reasoning_tokens", u.ReasoningTokens);
        activity.SetTag("tollgate.usage.estimated", u.Estimated);
        if (record.Cost.Total is { } cost)
        {
            activity.SetTag("tollgate.cost_usd", (double)cost);
            activity.SetTag("tollgate.cost_usd.exact", cost.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        activity.SetTag("tollgate.price_source", record.PriceSource);
        activity.SetTag("tollgate.request_id", record.Id);
        activity.SetTag("tollgate.deployment", record.Deployment);
        activity.SetTag("tollgate.endpoint", record.Endpoint);
        activity.SetTag("tollgate.stream", record.Stream);
        activity.SetTag("tollgate.status", record.Status);
        activity.SetTag("tollgate.attempts", record.Attempts);
        activity.SetTag("tollgate.key_id", a.KeyId);
        activity.SetTag("tollgate.user", a.User);
        activity.SetTag("tollgate.session", a.Session);
        activity.SetTag("tollgate.feature", a.Feature);
        activity.SetTag("tollgate.cost_center", a.CostCenter);
        activity.SetTag("tollgate.project", a.Project);
        activity.SetTag("tollgate.env", a.Env);
        foreach (var (name, value) in a.Tags)
        {
            activity.SetTag("tollgate.tag." + name, value);
        }

        if (record.ResponseCacheHit is { } hit)
        {
            activity.SetTag("tollgate.response_cache", hit);
        }

        if (record.Status != RecordStatus.Ok)
        {
            activity.SetTag("error.type", record.Status);
            activity.SetStatus(ActivityStatusCode.Error, record.Error);
        }

        activity.SetEndTime(record.Timestamp.UtcDateTime.AddMilliseconds(record.LatencyMs));
    }
}
