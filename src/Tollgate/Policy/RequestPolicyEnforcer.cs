using System.Buffers;
using System.Text.Json;
using Tollgate.Gateway.Errors;
using Tollgate.Ledger;
using Tollgate.Providers;

namespace Tollgate.Policy;

/// <summary>
/// Stage 3 (guard, policy part). Refuses a request that lacks a required tag (400 naming every missing one), and
/// applies the <c>max_tokens</c> rule: a request without a limit gets the default, one above the cap is lowered to it
/// (the body sent upstream is rewritten; every other field keeps its bytes).
/// </summary>
public static class RequestPolicyEnforcer
{
    private static readonly string[] LimitFields = ["max_completion_tokens", "max_tokens", "max_output_tokens"];

    /// <summary>A 400 naming every required tag <paramref name="attribution"/> lacks, or null.</summary>
    public static GatewayError? MissingTags(RequestPolicy policy, Attribution attribution)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(attribution);
        var missing = policy.RequiredTags.Count == 0 ? null : policy.RequiredTags.Where(tag => string.IsNullOrEmpty(TagValue(attribution, tag))).ToList();
        return missing is { Count: > 0 }
            ? GatewayError.InvalidRequest(
                $"This gateway requires every request to carry: {string.Join(", ", missing)}. Send {string.Join("; ", missing.Select(HowToSend))}.",
                "missing_required_tags")
            : null;
    }

    /// <summary>Returns an error, or null and (when the limit changed) the rewritten body.</summary>
    /// <param name="policy">The gateway's policy.</param>
    /// <param name="attribution">Who the request is charged to (required tags are looked up here).</param>
    /// <param name="body">The request body.</param>
    /// <param name="endpoint">The endpoint called; embeddings have no output limit.</param>
    /// <param name="rewritten">The body with its limit set, when it changed.</param>
    /// <param name="keyCap">The calling key's own cap, if any; the lower of it and the policy's cap applies.</param>
    /// <param name="keyDefault">The calling key's own default, if any; it comes before the policy's.</param>
    public static GatewayError? Apply(RequestPolicy policy, Attribution attribution, JsonElement body, GatewayEndpoint endpoint, out byte[]? rewritten, int? keyCap = null, int? keyDefault = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(attribution);
        rewritten = null;
        if (MissingTags(policy, attribution) is { } missingTags)
        {
            return missingTags;
        }

        if (endpoint == GatewayEndpoint.Embeddings)
        {
            return null;
        }

        var rule = policy.RuleFor(attribution.Feature);
        if (keyCap is { } capOfKey)
        {
            rule = rule with { Cap = Math.Min(rule.Cap ?? int.MaxValue, capOfKey) };
        }

        if (keyDefault is not null)
        {
            rule = rule with { Default = keyDefault };
        }

        if (policy.RequireMaxTokens && !LimitFields.Any(f => body.TryGetProperty(f, out var v) && v.ValueKind == JsonValueKind.Number))
        {
            return GatewayError.InvalidRequest("This gateway requires every request to set max_tokens (or max_completion_tokens).", "missing_max_tokens", "max_tokens");
        }

        var field = LimitFields.FirstOrDefault(f => body.TryGetProperty(f, out var v) && v.ValueKind == JsonValueKind.Number);
        long? asked = field is not null && body.GetProperty(field).TryGetInt64(out var n) ? n : null;

        // A default never exceeds the cap that applies to the request.
        var defaultLimit = rule.Default is { } d && rule.Cap is { } c ? Math.Min(d, c) : rule.Default ?? rule.Cap;
        long? limit = asked switch
        {
            null => defaultLimit,
            { } requested when rule.Cap is { } cap && requested > cap => cap,
            _ => null,
        };
        if (limit is { } newLimit)
        {
            // Anthropic's Messages API names the field max_tokens; OpenAI's chat prefers max_completion_tokens but takes both.
            // The Responses API names it max_output_tokens.
            rewritten = WithLimit(body, field ?? (endpoint == GatewayEndpoint.Responses ? "max_output_tokens" : "max_tokens"), newLimit);
        }

        return null;
    }

    /// <summary>The value of an attribution field or custom tag named <paramref name="tag"/>.</summary>
    private static string? TagValue(Attribution attribution, string tag) => tag switch
    {
        "user" => attribution.User,
        "session" => attribution.Session,
        "cost_center" or "cost-center" => attribution.CostCenter,
        "feature" => attribution.Feature,
        "project" => attribution.Project,
        "env" => attribution.Env,
        _ => attribution.Tags.GetValueOrDefault(tag),
    };

    /// <summary>How a client attaches a tag: its own header for an attribution field, X-Tags for a custom tag, or body metadata.</summary>
    private static string HowToSend(string tag) => tag switch
    {
        "user" => "user as the X-User-ID header (or the body's user, or metadata.user)",
        "session" => "session as X-Session-ID (or metadata.session)",
        "cost_center" or "cost-center" => "cost_center as X-Cost-Center (or metadata.cost_center)",
        "feature" or "project" or "env" => $"{tag} as X-{char.ToUpperInvariant(tag[0])}{tag[1..]} (or metadata.{tag})",
        _ => $"{tag} as X-Tags: {tag}=… (or metadata.{tag})",
    };

    private static byte[] WithLimit(JsonElement body, string field, long limit)
    {
        var output = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(output, OpenAiWire.WriterOptions))
        {
            writer.WriteStartObject();
            var written = false;
            foreach (var property in body.EnumerateObject())
            {
                if (property.NameEquals(field))
                {
                    writer.WriteNumber(field, limit);
                    written = true;
                }
                else
                {
                    RequestBodyRewriter.CopyVerbatim(writer, property);
                }
            }

            if (!written)
            {
                writer.WriteNumber(field, limit);
            }

            writer.WriteEndObject();
        }

        return output.WrittenSpan.ToArray();
    }
}
