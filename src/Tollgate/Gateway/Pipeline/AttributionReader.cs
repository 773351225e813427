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

    private static readonly IReadOnlyDictionary<string, string> NoTags = new Dictionary<string, string>();

    /// <summary>Body <c>metadata</c> keys that fill an attribution field instead of becoming a tag.</summary>
    private static readonly Dictionary<string, Field> MetadataFields = new(StringComparer.OrdinalIgnoreCase)
    {
        ["user"] = Field.User, ["user_id"] = Field.User,
        ["session"] = Field.Session, ["session_id"] = Field.Session,
        ["cost_center"] = Field.CostCenter, ["cost_centre"] = Field.CostCenter,
        ["feature"] = Field.Feature,
        ["project"] = Field.Project,
        ["env"] = Field.Env, ["environment"] = Field.Env,
    };

    private static readonly (string Header, Field Field)[] Headers =
    [
        ("X-User-ID", Field.User), ("X-Session-ID", Field.Session), ("X-Cost-Center", Field.CostCenter),
        ("X-Feature", Field.Feature), ("X-Project", Field.Project), ("X-Env", Field.Env),
    ];

    private static Field? FieldOf(string name) => MetadataFields.TryGetValue(name, out var field) ? field : null;

    private enum Field
    {
        User,
        Session,
        CostCenter,
        Feature,
        Project,
        Env,
    }

    public static (Attribution? Attribution, GatewayError? Error) Read(IHeaderDictionary headers, JsonElement body, CallerIdentity caller)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(caller);
        var fields = new string?[Headers.Length];
        Dictionary<string, string>? tags = null;

        if (body.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in metadata.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                {
                    continue;
                }

                if (MetadataFields.TryGetValue(entry.Name, out var field))
                {
                    fields[(int)field] = entry.Value.GetString();
                }
                else
                {
                    (tags ??= new(StringComparer.Ordinal))[entry.Name] = entry.Value.GetString()!;
                }
            }
        }

        if (fields[(int)Field.User] is null && body.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.String)
        {
            fields[(int)Field.User] = user.GetString();
        }

        foreach (var (header, field) in Headers)
        {
            if (headers.TryGetValue(header, out var value) && value.Count > 0 && value.ToString() is { Length: > 0 } text)
            {
                fields[(int)field] = text.Trim();
            }
        }

        if (headers.TryGetValue("X-Tags", out var tagHeader) && tagHeader.Count > 0)
        {
            foreach (var pair in tagHeader.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    return (null, GatewayError.InvalidRequest($"X-Tags must be comma-separated key=value pairs; '{pair}' is not.", "invalid_header"));
                }

                (tags ??= new(StringComparer.Ordinal))[pair[..equals].Trim()] = pair[(equals + 1)..].Trim();
            }
        }

        if (caller.Key is { } key)
        {
            // The key's tags join the request's; a key that locks them is not overridden by headers or body.
            foreach (var (name, value) in key.Tags)
            {
                var field = FieldOf(name);
                if (field is { } f)
                {
                    fields[(int)f] = key.LockTags || fields[(int)f] is null ? value : fields[(int)f];
                }
                else if (key.LockTags || tags?.ContainsKey(name) != true)
                {
                    (tags ??= new(StringComparer.Ordinal))[name] = value;
                }
            }
        }

        if (tags?.Count > MaxTags)
        {
            return (null, GatewayError.InvalidRequest($"At most {MaxTags} tags may be attached to one request.", "invalid_header"));
        }

        for (var i = 0; i < fields.Length; i++)
        {
            if (fields[i]?.Length > MaxValueLength)
            {
                return (null, GatewayError.InvalidRequest($"Attribution value '{Headers[i].Header}' is longer than {MaxValueLength} characters.", "invalid_header"));
            }
        }

        foreach (var (name, value) in tags ?? [])
        {
            if (value.Length > MaxValueLength || name.Length > MaxValueLength)
            {
                return (null, GatewayError.InvalidRequest($"Tag '{name}' is longer than {MaxValueLength} characters.", "invalid_header"));
            }
        }

        return (new Attribution(
            caller.KeyId,
            fields[(int)Field.User],
            fields[(int)Field.Session],
            fields[(int)Field.CostCenter],
            fields[(int)Field.Feature],
            fields[(int)Field.Project],
            fields[(int)Field.Env],
            tags ?? NoTags), null);
    }
}
