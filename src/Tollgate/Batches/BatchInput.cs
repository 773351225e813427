using System.Buffers;
using System.Text.Json;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Metering;
using Tollgate.Providers;

namespace Tollgate.Batches;

/// <summary>
/// The requests of a batch as a client sends them — an OpenAI batch file (JSON lines of <c>{custom_id, method, url,
/// body}</c>, every line for the same endpoint) or the <c>requests</c> of an Anthropic message batch (<c>{custom_id,
/// params}</c>) — every request for the same model (an alias). Each request is held to the rules of a realtime request
/// to its endpoint (<see cref="RequestFields"/>), so one the gateway could not meter is refused, naming its line.
/// </summary>
public sealed class BatchInput : IDisposable
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    /// <summary>The endpoints a batch line may call, by the <c>url</c> it names.</summary>
    public static IReadOnlyDictionary<string, GatewayEndpoint> Endpoints { get; } = new Dictionary<string, GatewayEndpoint>(StringComparer.Ordinal)
    {
        ["/v1/chat/completions"] = GatewayEndpoint.ChatCompletions,
        ["/v1/embeddings"] = GatewayEndpoint.Embeddings,
        ["/v1/completions"] = GatewayEndpoint.Completions,
        ["/v1/responses"] = GatewayEndpoint.Responses,
    };

    /// <summary>Longer <c>custom_id</c>s are refused (OpenAI's are free text; ours name a ledger record).</summary>
    public const int MaxCustomIdLength = 512;

    /// <summary>Anthropic's rule for a message batch's <c>custom_id</c>.</summary>
    private const int MaxMessageCustomIdLength = 64;

    private readonly List<Line> _lines;
    private readonly JsonDocument? _shared;

    private BatchInput(List<Line> lines, string model, string url, JsonDocument? shared = null)
    {
        _lines = lines;
        Model = model;
        Url = url;
        _shared = shared;
    }

    /// <summary>True for an Anthropic message batch (written back as one JSON body), false for an OpenAI batch file.</summary>
    public bool IsMessageBatch => _shared is not null;

    /// <summary>The model every line names: an alias of the gateway.</summary>
    public string Model { get; }

    /// <summary>The endpoint every line calls (<c>/v1/chat/completions</c>…).</summary>
    public string Url { get; }

    public GatewayEndpoint Endpoint => IsMessageBatch ? GatewayEndpoint.Messages : Endpoints[Url];

    public int Count => _lines.Count;

    /// <summary>Reads and checks every line; the first broken one is refused with its line number.</summary>
    public static (BatchInput? Input, GatewayError? Error) Read(ReadOnlyMemory<byte> content)
    {
        var lines = new List<Line>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        string? model = null;
        string? url = null;
        var number = 0;
        var rest = content;
        try
        {
            while (!rest.IsEmpty)
            {
                number++;
                var end = rest.Span.IndexOf((byte)'\n');
                var text = end < 0 ? rest : rest[..end];
                rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
                if (text.Span.Trim(" \t\r"u8).IsEmpty)
                {
                    continue;
                }

                if (lines.Count == Configuration.BatchSettings.MaxLines)
                {
                    return Fail(null, $"A batch file holds at most {Configuration.BatchSettings.MaxLines} requests.", "too_many_requests_in_file");
                }

                var (line, error) = ReadLine(text, number, ids);
                if (error is not null)
                {
                    return Fail(line, error.Message, error.Code);
                }

                lines.Add(line!);
                if ((model ??= line!.Model) != line!.Model)
                {
                    return Fail(null, $"Line {number}: every request of a batch must use the same model ('{model}' above, '{line.Model}' here).", "mixed_models");
                }

                if ((url ??= line.Url) != line.Url)
                {
                    return Fail(null, $"Line {number}: every request of a batch must call the same endpoint ('{url}' above, '{line.Url}' here).", "mixed_endpoints");
                }
            }
        }
        catch
        {
            DisposeAll(lines);
            throw;
        }

        if (lines.Count == 0)
        {
            return (null, GatewayError.InvalidRequest("The batch file holds no requests: expected one JSON object per line.", "empty_file", "file"));
        }

        return (new BatchInput(lines, model!, url!), null);

        (BatchInput?, GatewayError?) Fail(Line? broken, string message, string code)
        {
            broken?.Document?.Dispose();
            DisposeAll(lines);
            return (null, GatewayError.InvalidRequest(message, code, "file"));
        }
    }

    /// <summary>The <c>requests</c> of an Anthropic message batch (<c>POST /v1/messages/batches</c>); the first broken one is refused with its index.</summary>
    public static (BatchInput? Input, GatewayError? Error) ReadMessageBatch(ReadOnlyMemory<byte> body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 70 });
        }
        catch (JsonException ex)
        {
            return (null, GatewayError.InvalidRequest($"The request body is not valid JSON: {ex.Message}", "invalid_json"));
        }

        var (input, error) = ReadRequests(document, body.Span);
        if (input is null)
        {
            document.Dispose();
        }

        return (input, error);
    }

    private static (BatchInput? Input, GatewayError? Error) ReadRequests(JsonDocument document, ReadOnlySpan<byte> bytes)
    {
        var root = document.RootElement;
        if (RequestBodyReader.TextError(bytes, root) is { } textError)
        {
            return (null, textError);
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("requests", out var requests) || requests.ValueKind != JsonValueKind.Array)
        {
            return (null, GatewayError.InvalidRequest("'requests' must be an array of {custom_id, params}.", "invalid_request_error", "requests"));
        }

        var count = requests.GetArrayLength();
        if (count is 0 or > Configuration.BatchSettings.MaxLines)
        {
            return (null, GatewayError.InvalidRequest($"A message batch holds 1 to {Configuration.BatchSettings.MaxLines} requests.", "invalid_request_error", "requests"));
        }

        var lines = new List<Line>(count);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        string? model = null;
        var index = 0;
        foreach (var request in requests.EnumerateArray())
        {
            var where = $"requests[{index}]";
            index++;
            if (request.ValueKind != JsonValueKind.Object
                || !request.TryGetProperty("custom_id", out var customId) || customId.ValueKind != JsonValueKind.String
                || customId.GetString() is not { Length: > 0 and <= MaxMessageCustomIdLength } id || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return (null, GatewayError.InvalidRequest($"{where}.custom_id must be 1 to {MaxMessageCustomIdLength} letters, digits, '_' or '-'.", "invalid_request_error", where + ".custom_id"));
            }

            if (!ids.Add(id))
            {
                return (null, GatewayError.InvalidRequest($"{where}: the custom_id '{id}' is used by an earlier request; each must be unique.", "invalid_request_error", where + ".custom_id"));
            }

            if (!request.TryGetProperty("params", out var parameters))
            {
                return (null, GatewayError.InvalidRequest($"{where}.params is missing.", "invalid_request_error", where + ".params"));
            }

            if (RequestFields.Check(parameters, GatewayEndpoint.Messages, out var lineModel, out var stream) is { } fieldError)
            {
                return (null, fieldError with { Message = $"{where}.params: {fieldError.Message}" });
            }

            if (stream)
            {
                return (null, GatewayError.InvalidRequest($"{where}.params: a batch request cannot stream ('stream': true).", "invalid_request_error", where + ".params.stream"));
            }

            if ((model ??= lineModel) != lineModel)
            {
                return (null, GatewayError.InvalidRequest(
                    $"{where}.params: every request of a batch through this gateway must use the same model ('{model}' above, '{lineModel}' here).", "invalid_request_error", where + ".params.model"));
            }

            lines.Add(new Line(index, null) { Label = where, CustomId = id, Url = "/v1/messages", Model = lineModel!, Body = parameters });
        }

        return (new BatchInput(lines, model!, "/v1/messages", document), null);
    }

    /// <summary>
    /// The file for the provider: each line's <c>model</c> made the deployment's model and its body put through the
    /// request policy (<c>max_tokens</c> rules, as a realtime request), and the worst case of the whole batch at batch
    /// prices — or why a line's cost cannot be bounded.
    /// </summary>
    /// <param name="deployment">The deployment the batch will run on.</param>
    /// <param name="at">The day whose prices bound the cost.</param>
    /// <param name="policy">Applies the request policy to one line's body: an error, or the rewritten body (null: unchanged).</param>
    public (byte[]? File, BatchBound? Bound, GatewayError? Error) Prepare(Deployment deployment, DateTimeOffset at, Func<JsonElement, (GatewayError? Error, byte[]? Rewritten)> policy)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(policy);
        var output = new ArrayBufferWriter<byte>();
        var body = new ArrayBufferWriter<byte>();
        var worstCase = 0m;
        string? unbounded = null;
        using var writer = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        if (IsMessageBatch)
        {
            output.Write("{\"requests\":["u8);
        }

        foreach (var line in _lines)
        {
            var (policyError, rewritten) = policy(line.Body);
            if (policyError is not null)
            {
                return (null, null, policyError with { Message = $"{line.Label}: {policyError.Message}", Param = IsMessageBatch ? null : "file" });
            }

            using var changed = rewritten is null ? null : JsonDocument.Parse(rewritten, ParseOptions);
            var final = changed?.RootElement ?? line.Body;
            body.ResetWrittenCount();
            RequestBodyRewriter.Write(final, deployment.Config.Model, askForStreamUsage: false, body);
            var estimate = RequestEstimate.Of(final, body.WrittenSpan, deployment, at);
            if (Endpoint == GatewayEndpoint.Embeddings)
            {
                // An embedding has no output tokens.
                estimate = estimate with { MaxOutputTokens = 0 };
            }

            unbounded ??= estimate.CannotBound(deployment) is { } why ? $"{line.Label}: {why}" : null;
            if (estimate.Price is { } price && estimate.MaxBilledOutputTokens() is { } outputTokens)
            {
                worstCase += CostCalculator.WorstCase(estimate.Prompt.UpperBound, outputTokens, BatchPrice.Of(price).Price, estimate.WritesCache);
            }

            if (IsMessageBatch && line != _lines[0])
            {
                output.Write(","u8);
            }

            writer.Reset();
            writer.WriteStartObject();
            writer.WriteString("custom_id"u8, line.CustomId);
            if (!IsMessageBatch)
            {
                writer.WriteString("method"u8, "POST"u8);
                writer.WriteString("url"u8, line.Url);
            }

            writer.WritePropertyName(IsMessageBatch ? "params"u8 : "body"u8);
            writer.WriteRawValue(body.WrittenSpan, skipInputValidation: true);
            writer.WriteEndObject();
            writer.Flush();
            if (!IsMessageBatch)
            {
                output.Write("\n"u8);
            }
        }

        if (IsMessageBatch)
        {
            output.Write("]}"u8);
        }

        return (output.WrittenSpan.ToArray(), new BatchBound(_lines.Count, worstCase, unbounded), null);
    }

    public void Dispose()
    {
        DisposeAll(_lines);
        _shared?.Dispose();
    }

    private static void DisposeAll(List<Line> lines)
    {
        foreach (var line in lines)
        {
            line.Document?.Dispose();
        }
    }

    private static (Line? Line, GatewayError? Error) ReadLine(ReadOnlyMemory<byte> text, int number, HashSet<string> ids)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, ParseOptions);
        }
        catch (JsonException ex)
        {
            return (null, GatewayError.InvalidRequest($"Line {number} is not valid JSON: {ex.Message}", "invalid_json"));
        }

        var root = document.RootElement;
        var line = new Line(number, document);
        if (RequestBodyReader.TextError(text.Span, root) is { } textError)
        {
            return (line, textError with { Message = $"Line {number}: {textError.Message}" });
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return (line, GatewayError.InvalidRequest($"Line {number} must be a JSON object with custom_id, method, url and body.", "invalid_line"));
        }

        if (!root.TryGetProperty("custom_id", out var customId) || customId.ValueKind != JsonValueKind.String
            || customId.GetString() is not { Length: > 0 and <= MaxCustomIdLength } id)
        {
            return (line, GatewayError.InvalidRequest($"Line {number}: 'custom_id' must be a string of 1 to {MaxCustomIdLength} characters.", "invalid_custom_id"));
        }

        if (!ids.Add(id))
        {
            return (line, GatewayError.InvalidRequest($"Line {number}: the custom_id '{Short(id)}' is used by an earlier line; each must be unique.", "duplicate_custom_id"));
        }

        if (!root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String || method.GetString() != "POST")
        {
            return (line, GatewayError.InvalidRequest($"Line {number}: 'method' must be \"POST\".", "invalid_method"));
        }

        if (!root.TryGetProperty("url", out var url) || url.ValueKind != JsonValueKind.String || !Endpoints.TryGetValue(url.GetString()!, out var endpoint))
        {
            return (line, GatewayError.InvalidRequest($"Line {number}: 'url' must be one of {string.Join(", ", Endpoints.Keys)}.", "invalid_url"));
        }

        if (!root.TryGetProperty("body", out var body))
        {
            return (line, GatewayError.InvalidRequest($"Line {number}: 'body' is missing.", "invalid_body"));
        }

        if (RequestFields.Check(body, endpoint, out var model, out var stream) is { } fieldError)
        {
            return (line, fieldError with { Message = $"Line {number}: {fieldError.Message}" });
        }

        if (stream)
        {
            return (line, GatewayError.InvalidRequest($"Line {number}: a batch request cannot stream ('stream': true).", "invalid_stream"));
        }

        line.CustomId = id;
        line.Url = url.GetString()!;
        line.Model = model!;
        line.Body = body;
        return (line, null);
    }

    private static string Short(string text) => text.Length <= 60 ? text : text[..60] + "…";

    private sealed class Line(int number, JsonDocument? document)
    {
        public int Number { get; } = number;

        /// <summary>How errors name it: "Line 3" in a batch file, "requests[2]" in a message batch.</summary>
        public string Label { get; init; } = $"Line {number}";

        /// <summary>The line's own document (a batch file's line); null when it lives in the batch's one body.</summary>
        public JsonDocument? Document { get; } = document;
        public string CustomId { get; set; } = string.Empty;
        public string Url { get; set; } = string.Empty;
        public string Model { get; set; } = string.Empty;
        public JsonElement Body { get; set; }
    }
}

/// <summary>What a batch file can cost: its requests and their summed worst case at batch prices, or why it cannot be bounded.</summary>
public sealed record BatchBound(int Requests, decimal WorstCaseUsd, string? Unbounded);
