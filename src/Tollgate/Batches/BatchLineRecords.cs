using System.Text.Json;
using Tollgate.Gateway.Pipeline;
using Tollgate.Ledger;
using Tollgate.Metering;
using Tollgate.Optimization.PromptCaching;
using Tollgate.Providers;
using Tollgate.Providers.OpenAiCompatible;

namespace Tollgate.Batches;

/// <summary>
/// Turns a finished batch's results into ledger records, one per line — OpenAI's output and error files, Anthropic's
/// results — usage read from the line's answer as from a realtime one, priced at batch rates (<see cref="BatchPrice"/>) of the day the batch was
/// created, with what the same usage costs at realtime rates beside it. A line the provider did not run (expired,
/// cancelled) or answered with an error is recorded with its status at $0: providers bill neither.
/// </summary>
public sealed class BatchLineRecords(TrackedBatch batch, Deployment? deployment, DateTimeOffset endedAt)
{
    private readonly GatewayEndpoint _endpoint = EndpointOf(batch.Url);

    /// <summary>The record endpoint of a batch's lines: <c>batch.</c> and the realtime name (<c>batch.chat.completions</c>, <c>batch.messages</c>…).</summary>
    public static string EndpointName(string url) => "batch." + UsageSettler.EndpointName(EndpointOf(url));

    private static GatewayEndpoint EndpointOf(string url) =>
        url == "/v1/messages" ? GatewayEndpoint.Messages : BatchInput.Endpoints.TryGetValue(url, out var endpoint) ? endpoint : GatewayEndpoint.ChatCompletions;

    /// <summary>The records of every line of an OpenAI output or error file; lines that are not JSON objects with a custom_id are skipped.</summary>
    public IEnumerable<UsageRecord> ReadOpenAi(ReadOnlyMemory<byte> file) => Lines(file, OpenAiRecordOf);

    /// <summary>The records of every line of an Anthropic message batch's results; lines that are not JSON objects with a custom_id are skipped.</summary>
    public IEnumerable<UsageRecord> ReadAnthropic(ReadOnlyMemory<byte> results) => Lines(results, AnthropicRecordOf);

    private static IEnumerable<UsageRecord> Lines(ReadOnlyMemory<byte> file, Func<JsonElement, string, UsageRecord?> recordOf)
    {
        var rest = file;
        while (!rest.IsEmpty)
        {
            var end = rest.Span.IndexOf((byte)'\n');
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
            if (line.Span.Trim(" \t\r"u8).IsEmpty)
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException)
            {
                continue;
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("custom_id", out var customId) && customId.ValueKind == JsonValueKind.String
                    && recordOf(root, customId.GetString()!) is { } record)
                {
                    yield return record;
                }
            }
        }
    }

    /// <summary>An OpenAI line: <c>response.status_code</c> and <c>response.body</c>, or an <c>error</c> (<c>batch_expired</c>…).</summary>
    private UsageRecord? OpenAiRecordOf(JsonElement root, string customId)
    {
        var response = root.TryGetProperty("response", out var r) && r.ValueKind == JsonValueKind.Object ? r : default;
        var error = root.TryGetProperty("error", out var er) && er.ValueKind == JsonValueKind.Object ? er : default;
        var httpStatus = response.ValueKind == JsonValueKind.Object && response.TryGetProperty("status_code", out var code) && code.ValueKind == JsonValueKind.Number && code.TryGetInt32(out var c) ? c : 0;
        var body = response.ValueKind == JsonValueKind.Object && response.TryGetProperty("body", out var b) && b.ValueKind == JsonValueKind.Object ? b : default;
        var answered = httpStatus is >= 200 and < 300 && body.ValueKind == JsonValueKind.Object;
        return Record(customId, answered ? UsageOf(body) : null, httpStatus, answered ? RecordStatus.Ok : StatusOf(error), answered ? null : ErrorOf(error, body));
    }

    /// <summary>An Anthropic line: <c>result.type</c> succeeded (with its message), errored, canceled or expired.</summary>
    private UsageRecord? AnthropicRecordOf(JsonElement root, string customId)
    {
        if (!root.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.Object
            || !result.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        switch (type.GetString())
        {
            case "succeeded" when result.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object
                && message.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object:
                return Record(customId, Providers.Anthropic.AnthropicUsageMapper.Map(usage), 200, RecordStatus.Ok, null);
            case "canceled":
                return Record(customId, null, 0, RecordStatus.Cancelled, "the batch was cancelled before this request ran");
            case "expired":
                return Record(customId, null, 0, RecordStatus.Expired, "the batch expired before this request ran");
            default:
                var error = result.TryGetProperty("error", out var outer) && outer.ValueKind == JsonValueKind.Object
                    ? outer.TryGetProperty("error", out var inner) && inner.ValueKind == JsonValueKind.Object ? inner : outer
                    : default;
                return Record(customId, null, 0, RecordStatus.UpstreamError, ErrorOf(error, default));
        }
    }

    /// <summary>One line's record; <paramref name="usage"/> is null for a line the provider did not answer (not billed).</summary>
    private UsageRecord Record(string customId, Usage? usage, int httpStatus, string status, string? error)
    {
        var answered = usage is not null;
        var (cost, realtime, source, savings) = Price(usage ?? Usage.None, answered);
        return new UsageRecord
        {
            Id = batch.Id + "/" + customId,
            Timestamp = endedAt,
            LatencyMs = 0,
            Attribution = batch.Attribution,
            Endpoint = EndpointName(batch.Url),
            Alias = batch.Alias,
            Deployment = batch.Deployment,
            Provider = batch.Provider,
            UpstreamModel = batch.Model,
            Stream = false,
            Status = status,
            HttpStatus = httpStatus,
            Usage = usage ?? Usage.None,
            Cost = cost,
            PriceSource = source,
            CacheSavingsUsd = savings,
            BatchId = batch.Id,
            RealtimeCostUsd = realtime,
            Error = error,
        };
    }

    private Usage UsageOf(JsonElement body)
    {
        var bytes = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(body).ToArray();
        var (usage, characters) = _endpoint == GatewayEndpoint.Responses ? ResponsesStreamInspector.ReadResponse(bytes) : OpenAiCompatibleAdapter.ReadCompletion(bytes);
        return usage.OutputTokens is null && _endpoint != GatewayEndpoint.Embeddings
            ? usage with { OutputTokens = TokenEstimator.FromCharacters(characters), Estimated = true }
            : usage;
    }

    private (CostBreakdown Cost, decimal? Realtime, string Source, decimal? Savings) Price(Usage usage, bool answered)
    {
        if (deployment is null)
        {
            return (CostBreakdown.Unknown, null, $"unknown: the deployment '{batch.Deployment}' is no longer configured", null);
        }

        // Priced as its worst case was held at creation: at the rates of that moment (a price with peak hours resolved).
        switch (deployment.Pricing.At(batch.CreatedAt))
        {
            case DeploymentPrice.PerToken perToken:
                var (price, rule) = BatchPrice.Of(perToken.Price);
                var source = perToken.Source + "; " + rule + UsageSettler.UnpricedTools(usage, price);
                return answered
                    ? (CostCalculator.Price(usage, price), CostCalculator.Price(usage, perToken.Price).Total, source, CachingSavings.Of(usage, price))
                    : (CostBreakdown.Flat(0), 0, source, 0);
            case DeploymentPrice.Unknown unknown:
                return (CostBreakdown.Unknown, null, "unknown: " + unknown.Reason, null);
            default:
                return (CostBreakdown.Unknown, null, "unknown: a deployment priced per hour has no batch price", null);
        }
    }

    private static string StatusOf(JsonElement error)
    {
        var code = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        return code switch
        {
            "batch_expired" => RecordStatus.Expired,
            "batch_cancelled" => RecordStatus.Cancelled,
            _ => RecordStatus.UpstreamError,
        };
    }

    private static string ErrorOf(JsonElement error, JsonElement body)
    {
        var source = error.ValueKind == JsonValueKind.Object ? error
            : body.ValueKind == JsonValueKind.Object && body.TryGetProperty("error", out var inner) && inner.ValueKind == JsonValueKind.Object ? inner
            : default;
        if (source.ValueKind != JsonValueKind.Object)
        {
            return "the provider gave no answer for this line";
        }

        var code = source.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        var message = source.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        var text = code is null ? message ?? "error" : code + ": " + message;
        return text.Length <= 500 ? text : text[..500];
    }
}
