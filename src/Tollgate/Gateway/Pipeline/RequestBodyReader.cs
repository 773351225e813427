using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Errors;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Stage 3 (guard, body part): reads the body within the size limit, parses it as JSON within a depth limit, refuses
/// text that is not text (<see cref="JsonText"/>) and checks the fields the gateway itself reads
/// (<see cref="RequestFields"/>). Everything else in the body is left for the provider to judge.
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

        string? model = null;
        var stream = false;
        var error = TextError(bytes, document.RootElement) ?? RequestFields.Check(document.RootElement, endpoint, out model, out stream);
        if (error is not null)
        {
            document.Dispose();
            return (null, error);
        }

        return (new ParsedRequest(document, model!, stream, bytes), null);
    }

    /// <summary>A body whose strings are not all text (invalid UTF-8, a lone surrogate escape) is refused, naming where.</summary>
    internal static GatewayError? TextError(ReadOnlySpan<byte> bytes, JsonElement parsed) =>
        JsonText.Problem(bytes, parsed) is { } problem
            ? GatewayError.InvalidRequest($"The request body {problem.Why}: see {Shorten(problem.Where)}.", "invalid_encoding", Shorten(problem.Where))
            : null;

    private static string Shorten(string path) => path.Length <= 120 ? path : path[..120] + "…";
}
