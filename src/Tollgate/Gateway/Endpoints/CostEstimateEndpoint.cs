using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Errors;
using Tollgate.Gateway.Pipeline;
using Tollgate.Metering;
using Tollgate.Metering.Tokenization;
using Tollgate.Providers;

namespace Tollgate.Gateway.Endpoints;

/// <summary>
/// <c>POST /v1/cost/estimate</c>: takes a chat-completions body and answers with its prompt tokens, their bound and
/// the worst-case cost a hard budget would reserve — the prompt's bound at the highest input rate and every allowed
/// output token of every choice spent — without calling any provider; <c>unbounded</c> says why a hard budget would
/// refuse it.
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

            var price = deployment.Pricing.At(time.GetUtcNow());
            var estimate = RequestEstimate.Of(parsed.Body, parsed.RawBody.Span, deployment, time.GetUtcNow());
            var prompt = estimate.Prompt;
            context.Response.ContentType = "application/json";
            await using var writer = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true });
            writer.WriteStartObject();
            writer.WriteString("object", "cost_estimate");
            writer.WriteString("model", parsed.Model);
            writer.WriteString("deployment", deployment.Name);
            writer.WriteNumber("prompt_tokens", prompt.Tokens);
            writer.WriteBoolean("prompt_tokens_exact", prompt.Exact);
            writer.WriteNumber("prompt_tokens_upper_bound", prompt.UpperBound);
            writer.WriteString("tokenizer", prompt.Method);
            Nullable(writer, "max_output_tokens", estimate.MaxOutputTokens);
            writer.WriteString("max_output_tokens_source", estimate.MaxOutputSource);
            writer.WriteNumber("choices", estimate.Choices);
            Nullable(writer, "max_billed_output_tokens", estimate.MaxBilledOutputTokens());
            if (estimate.WorstCaseUsd() is { } worstCase)
            {
                writer.WriteNumber("worst_case_cost_usd", worstCase);
            }
            else
            {
                writer.WriteNull("worst_case_cost_usd");
            }

            if (estimate.CannotBound(deployment) is { } unbounded)
            {
                writer.WriteString("unbounded", unbounded);
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
