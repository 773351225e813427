using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tollgate.Gateway.Errors;

/// <summary>
/// Writes a <see cref="GatewayError"/> in Anthropic's error shape (<c>{"type":"error","error":{"type","message"}}</c>),
/// for callers of <c>/v1/messages</c>, whose SDKs read that shape.
/// </summary>
public static class AnthropicErrorWriter
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] ToJson(GatewayError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Options))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "error");
            writer.WriteStartObject("error");
            writer.WriteString("type", ErrorType(error.Status));
            writer.WriteString("message", error.Message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }

    private static string ErrorType(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
}
