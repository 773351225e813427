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
    };

    public static IResult Error(GatewayError error) =>
        Results.Text(System.Text.Encoding.UTF8.GetString(OpenAiErrorWriter.ToJson(error)), "application/json", System.Text.Encoding.UTF8, error.Status);
}
