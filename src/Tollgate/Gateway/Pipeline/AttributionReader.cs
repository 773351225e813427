using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Errors;
using Tollgate.Ledger;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Stage 2: who the cost is charged to. Headers win over the body: <c>X-User-ID</c>, <c>X-Session-ID</c>,
/// <c>X-Cost-Center</c>, <c>X-Feature</c>, <c>X-Project</c>, <c>X-Env</c> and <c>X-Tags: k=v,k2=v2</c>; then the body's
/// <c>user</c> field and <c>metadata</c> object (its known keys fill the fields, the other string values become tags).
/// </summary>
public static class AttributionReader
{
    public const int MaxValueLength = 256;
    public const int MaxTags = 32;

    private static readonly Dictionary<string, string> MetadataFields = new(StringComparer.OrdinalIgnoreCase)
    {
        ["user"] = "user", ["user_id"] = "user",
        ["session"] = "session", ["session_id"] = "session",
        ["cost_center"] = "cost_center", ["cost_centre"] = "cost_center",
        ["feature"] = "feature",
        ["project"] = "project",
        ["env"] = "env", ["environment"] = "env",
    };

    public static (Attribution? Attribution, GatewayError? Error) Read(IHeaderDictionary headers, JsonElement body, CallerIdentity caller)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(caller);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);

        if (body.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in metadata.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                {
                    continue;
                }

                var value = entry.Value.GetString()!;
                if (MetadataFields.TryGetValue(entry.Name, out var field))
                {
                    fields[field] = value;
                }
                else
                {
                    tags[entry.Name] = value;
                }
            }
        }

        if (body.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.String && !fields.ContainsKey("user"))
        {
            fields["user"] = user.GetString()!;
        }

        Header(headers, "X-User-ID", "user", fields);
        Header(headers, "X-Session-ID", "session", fields);
        Header(headers, "X-Cost-Center", "cost_center", fields);
        Header(headers, "X-Feature", "feature", fields);
        Header(headers, "X-Project", "project", fields);
        Header(headers, "X-Env", "env", fields);

        var tagHeader = headers["X-Tags"].ToString();
        if (tagHeader.Length > 0)
        {
            foreach (var pair in tagHeader.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    return (null, GatewayError.InvalidRequest($"X-Tags must be comma-separated key=value pairs; '{pair}' is not.", "invalid_header"));
                }

                tags[pair[..equals].Trim()] = pair[(equals + 1)..].Trim();
            }
        }

        if (tags.Count > MaxTags)
        {
            return (null, GatewayError.InvalidRequest($"At most {MaxTags} tags may be attached to one request.", "invalid_header"));
        }

        foreach (var (name, value) in fields.Concat(tags))
        {
            if (value.Length > MaxValueLength || name.Length > MaxValueLength)
            {
                return (null, GatewayError.InvalidRequest($"Attribution value '{name}' is longer than {MaxValueLength} characters.", "invalid_header"));
            }
        }

        return (new Attribution(
            caller.KeyId,
            fields.GetValueOrDefault("user"),
            fields.GetValueOrDefault("session"),
            fields.GetValueOrDefault("cost_center"),
            fields.GetValueOrDefault("feature"),
            fields.GetValueOrDefault("project"),
            fields.GetValueOrDefault("env"),
            tags), null);
    }

    private static void Header(IHeaderDictionary headers, string header, string field, Dictionary<string, string> fields)
    {
        var value = headers[header].ToString();
        if (value.Length > 0)
        {
            fields[field] = value.Trim();
        }
    }
}
