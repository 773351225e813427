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
        if (activity is not { IsAllDataRequested: true })
        {
            // Not sampled: the SDK may still hand out an activity to carry the trace's context, but it is never exported.
            return;
        }

        var a = record.Attribution;
        var u = record.Usage;
        Add(activity, "gen_ai.operation.name", operation);
        Add(activity, "gen_ai.provider.name", record.Provider);
        Add(activity, "gen_ai.system", record.Provider);
        Add(activity, "gen_ai.request.model", record.Alias);
        Add(activity, "gen_ai.response.model", record.UpstreamModel);
        Add(activity, "gen_ai.request.max_tokens", record.MaxOutputTokens);
        Add(activity, "gen_ai.usage.input_tokens", u.InputTokens);
        Add(activity, "gen_ai.usage.output_tokens", u.OutputTokens);
        Add(activity, "gen_ai.response.id", record.UpstreamRequestId);
        Add(activity, "tollgate.usage.cached_input_tokens", u.CachedInputTokens);
        Add(activity, "tollgate.usage.cache_write_tokens", u.CacheWriteTokens);
        Add(activity, "tollgate.usage.reasoning_tokens", u.ReasoningTokens);
        Add(activity, "tollgate.usage.estimated", u.Estimated);
        if (record.Cost.Total is { } cost)
        {
            Add(activity, "tollgate.cost_usd", (double)cost);
            Add(activity, "tollgate.cost_usd.exact", cost.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Add(activity, "tollgate.price_source", record.PriceSource);
        Add(activity, "tollgate.request_id", record.Id);
        Add(activity, "tollgate.deployment", record.Deployment);
        Add(activity, "tollgate.endpoint", record.Endpoint);
        Add(activity, "tollgate.stream", record.Stream);
        Add(activity, "tollgate.status", record.Status);
        Add(activity, "tollgate.attempts", record.Attempts);
        Add(activity, "tollgate.key_id", a.KeyId);
        Add(activity, "tollgate.user", a.User);
        Add(activity, "tollgate.session", a.Session);
        Add(activity, "tollgate.feature", a.Feature);
        Add(activity, "tollgate.cost_center", a.CostCenter);
        Add(activity, "tollgate.project", a.Project);
        Add(activity, "tollgate.env", a.Env);
        foreach (var (name, value) in a.Tags)
        {
            Add(activity, "tollgate.tag." + name, value);
        }

        if (record.ResponseCacheHit is { } hit)
        {
            Add(activity, "tollgate.response_cache", hit);
        }

        if (record.Status != RecordStatus.Ok)
        {
            Add(activity, "error.type", record.Status);
            activity.SetStatus(ActivityStatusCode.Error, record.Error);
        }

        activity.SetEndTime(record.Timestamp.UtcDateTime.AddMilliseconds(record.LatencyMs));
    }

    /// <summary>
    /// Adds a tag that has a value. Each name is added once, so <see cref="Activity.AddTag(string, object?)"/> serves:
    /// <see cref="Activity.SetTag"/> would first look the name up among the tags already there.
    /// </summary>
    private static void Add(Activity activity, string name, object? value)
    {
        if (value is not null)
        {
            activity.AddTag(name, value);
        }
    }
}
