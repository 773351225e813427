using Microsoft.AspNetCore.Http;
using Tollgate.Providers;

namespace Tollgate.Gateway.Errors;

/// <summary>Answers with an error in the shape the caller's protocol expects: Anthropic's on /v1/messages, OpenAI's elsewhere.</summary>
public static class ErrorResponder
{
    public static Task WriteAsync(HttpResponse response, GatewayEndpoint endpoint, GatewayError error)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(error);
        if (endpoint != GatewayEndpoint.Messages)
        {
            return OpenAiErrorWriter.WriteAsync(response, error);
        }

        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        return response.Body.WriteAsync(AnthropicErrorWriter.ToJson(error)).AsTask();
    }

    /// <summary>An error inside a stream that has begun, as one SSE event of the caller's protocol.</summary>
    public static byte[] StreamEvent(GatewayEndpoint endpoint, GatewayError error) => endpoint == GatewayEndpoint.Messages
        ? [.. "event: error\ndata: "u8, .. AnthropicErrorWriter.ToJson(error), .. "\n\n"u8]
        : [.. "data: "u8, .. OpenAiErrorWriter.ToJson(error), .. "\n\n"u8];
}
