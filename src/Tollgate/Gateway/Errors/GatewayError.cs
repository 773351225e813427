namespace Tollgate.Gateway.Errors;

/// <summary>An error the gateway answers with, as a value; <see cref="OpenAiErrorWriter"/> turns it into OpenAI's error JSON.</summary>
public sealed record GatewayError(int Status, string Type, string Code, string Message, string? Param = null)
{
    public static GatewayError InvalidRequest(string message, string code = "invalid_request_error", string? param = null) =>
        new(400, "invalid_request_error", code, message, param);

    public static GatewayError Unauthorized(string message) => new(401, "authentication_error", "invalid_api_key", message);

    public static GatewayError ModelNotFound(string alias) =>
        new(404, "invalid_request_error", "model_not_found", $"The model '{alias}' does not exist or you do not have access to it.", "model");

    public static GatewayError BodyTooLarge(long limit) =>
        new(413, "invalid_request_error", "request_too_large", $"The request body is larger than the limit of {limit} bytes.");

    public static GatewayError Upstream(int status, string message) => new(status, "api_error", "upstream_error", message);
}
