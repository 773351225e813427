using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Errors;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Stage 3 (guard, body part): reads the body within the size limit, parses it as JSON within a depth limit, and
/// checks the fields the gateway itself needs. Everything else in the body is left for the provider to judge.
/// </summary>
public sealed class RequestBodyReader(long maxBodyBytes)
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    public async ValueTask<(ParsedRequest? Request, GatewayError? Error)> ReadAsync(HttpRequest request, GatewayEndpoint endpoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > maxBodyBytes)
        {
            return (null, GatewayError.BodyTooLarge(maxBodyBytes));
        }

        byte[] bytes;
        try
        {
            bytes = await WholeBody.ReadAsync(request.Body, request.ContentLength, maxBodyBytes, cancellationToken);
        }
        catch (WholeBody.TooLargeException)
        {
            return (null, GatewayError.BodyTooLarge(maxBodyBytes));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, GatewayError.BodyTooLarge(maxBodyBytes));
        }
        catch (Exception ex) when (ex is EndOfStreamException or BadHttpRequestException)
        {
            return (null, GatewayError.InvalidRequest("The request body ended before its declared Content-Length."));
        }

        if (bytes.Length == 0)
        {
            return (null, GatewayError.InvalidRequest("The request body is empty; expected a JSON object."));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, ParseOptions);
        }
        catch (JsonException ex)
        {
            return (null, GatewayError.InvalidRequest($"The request body is not valid JSON: {ex.Message}", "invalid_json"));
        }

        var error = Check(document.RootElement, endpoint, out var model, out var stream);
        if (error is not null)
        {
            document.Dispose();
            return (null, error);
        }

        return (new ParsedRequest(document, model!, stream, bytes), null);
    }

    private static GatewayError? Check(JsonElement body, GatewayEndpoint endpoint, out string? model, out bool stream)
    {
        model = null;
        stream = false;
        if (body.ValueKind != JsonValueKind.Object)
        {
            return GatewayError.InvalidRequest("The request body must be a JSON object.");
        }

        if (!body.TryGetProperty("model", out var m) || m.ValueKind == JsonValueKind.Null)
        {
            return GatewayError.InvalidRequest("You must provide a model parameter.", "missing_model", "model");
        }

        if (m.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(m.GetString()))
        {
            return GatewayError.InvalidRequest("'model' must be a non-empty string.", "invalid_model", "model");
        }

        model = m.GetString();
        if (body.TryGetProperty("stream", out var s))
        {
            if (s.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            {
                return GatewayError.InvalidRequest("'stream' must be a boolean.", "invalid_type", "stream");
            }

            stream = s.ValueKind == JsonValueKind.True;
        }

        if (endpoint is GatewayEndpoint.ChatCompletions or GatewayEndpoint.Messages)
        {
            if (!body.TryGetProperty("messages", out var messages))
            {
                return GatewayError.InvalidRequest("Missing required parameter: 'messages'.", "missing_required_parameter", "messages");
            }

            if (messages.ValueKind != JsonValueKind.Array)
            {
                return GatewayError.InvalidRequest("'messages' must be an array.", "invalid_type", "messages");
            }
        }
        else
        {
            if (stream)
            {
                return GatewayError.InvalidRequest("Embeddings cannot be streamed.", "invalid_value", "stream");
            }

            if (!body.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            {
                return GatewayError.InvalidRequest("Missing required parameter: 'input' (a string or an array).", "missing_required_parameter", "input");
            }
        }

        return null;
    }
}
