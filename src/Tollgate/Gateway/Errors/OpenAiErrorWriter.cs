using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Tollgate.Gateway.Errors;

/// <summary>The one place that writes a <see cref="GatewayError"/> as OpenAI's error JSON with its status code.</summary>
public static class OpenAiErrorWriter
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpResponse response, GatewayError error)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(error);
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        await response.Body.WriteAsync(ToJson(error));
    }

    public static byte[] ToJson(GatewayError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Options))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", error.Message);
            writer.WriteString("type", error.Type);
            if (error.Param is null)
            {
                writer.WriteNull("param");
            }
            else
            {
                writer.WriteString("param", error.Param);
            }

            writer.WriteString("code", error.Code);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }
}
