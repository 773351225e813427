using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Metering;
using Tollgate.Metering.Tokenization;
using Tollgate.Providers;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// <c>POST /v1/cost/estimate</c>: takes a chat-completions body and answers with its prompt tokens and the worst-case
/// cost — every prompt token uncached and every allowed output token spent — without calling any provider.
/// </summary>
public static class CostEstimateEndpoint
{
    public static async Task HandleAsync(HttpContext context, Authenticator authenticator, RequestBodyReader bodyReader, DeploymentRouter router, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authenticator);
        ArgumentNullException.ThrowIfNull(bodyReader);
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(time);
        if (authenticator.Authenticate(context.Request, out var authError) is null)
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, authError!);
            return;
        }

        var (parsed, bodyError) = await bodyReader.ReadAsync(context.Request, GatewayEndpoint.ChatCompletions, context.RequestAborted);
        if (parsed is null)
        {
            await OpenAiErrorWriter.WriteAsync(context.Response, bodyError!);
            return;
        }

        using (parsed)
        {
            var deployment = router.Resolve(parsed.Model);
            if (deployment is null)
            {
                await OpenAiErrorWriter.WriteAsync(context.Response, GatewayError.ModelNotFound(parsed.Model));
                return;
            }

            var prompt = PromptTokenCounter.Count(parsed.Body, deployment.Config.Model);
            var price = deployment.Pricing.On(DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
            var tokenPrice = (price as DeploymentPrice.PerToken)?.Price;
            var (maxOutput, maxOutputSource) = MaxOutput(parsed.Body, tokenPrice);
            context.Response.ContentType = "application/json";
            await using var writer = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true });
            writer.WriteStartObject();
            writer.WriteString("object", "cost_estimate");
            writer.WriteString("model", parsed.Model);
            writer.WriteString("deployment", deployment.Name);
            writer.WriteNumber("prompt_tokens", prompt.Tokens);
            writer.WriteBoolean("prompt_tokens_exact", prompt.Exact);
            writer.WriteString("tokenizer", prompt.Method);
            Nullable(writer, "max_output_tokens", maxOutput);
            writer.WriteString("max_output_tokens_source", maxOutputSource);
            if (tokenPrice is not null && maxOutput is { } max)
            {
                writer.WriteNumber("worst_case_cost_usd", CostCalculator.WorstCase(prompt.Tokens, max, tokenPrice));
            }
            else
            {
                writer.WriteNull("worst_case_cost_usd");
            }

            writer.WriteString("price_source", price switch
            {
                DeploymentPrice.PerToken perToken => perToken.Source,
                DeploymentPrice.PerHour => "hourly: a per-hour deployment has no per-request worst case",
                DeploymentPrice.Unknown unknown => "unknown: " + unknown.Reason,
                _ => "unknown",
            });
            writer.WriteEndObject();
        }
    }

    /// <summary>The request's own limit, else the model's maximum output from the catalogue.</summary>
    private static (long? Tokens, string Source) MaxOutput(JsonElement body, TokenPrice? price)
    {
        foreach (var name in new[] { "max_completion_tokens", "max_tokens" })
        {
            if (body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var limit) && limit > 0)
            {
                return (limit, "request " + name);
            }
        }

        return price?.MaxOutputTokens is { } catalogueMax ? (catalogueMax, "catalogue maximum") : (null, "unknown");
    }

    private static void Nullable(Utf8JsonWriter writer, string name, long? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
