using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Errors;

namespace Tollgate.Gateway.Endpoints;

/// <summary>How the admin API writes: snake_case JSON without nulls, and errors in OpenAI's shape.</summary>
internal static class AdminJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,

        // A JSON API, never inlined into HTML: times keep their '+' instead of "\u002B".
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// The refusal of a body the serializer could not read, naming the field it stopped at. The serializer's own message
    /// names .NET types ("could not be converted to System.Nullable`1[System.Int64]"), which mean nothing to a client.
    /// </summary>
    public static GatewayError Unreadable(JsonException exception, string what)
    {
        ArgumentNullException.ThrowIfNull(exception);
        // The reader's own exception inside means the text is not JSON; without it, a field's value did not convert.
        var syntax = exception.InnerException is JsonException;
        var field = !syntax && exception.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
        return field is null
            ? GatewayError.InvalidRequest($"The body is not a valid {what}: it is not a JSON object of the expected fields (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1}).", "invalid_json")
            : GatewayError.InvalidRequest($"The body is not a valid {what}: '{field}' has the wrong type or format.", "invalid_json", field);
    }

    public static IResult Error(GatewayError error) =>
        Results.Text(System.Text.Encoding.UTF8.GetString(OpenAiErrorWriter.ToJson(error)), "application/json", System.Text.Encoding.UTF8, error.Status);
}
