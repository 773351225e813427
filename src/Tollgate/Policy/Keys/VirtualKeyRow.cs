using System.Data.Common;
using System.Text.Json;

namespace Tollgate.Policy.Keys;

/// <summary>
/// A virtual key as every key store reads it back, from the columns <c>id, name, prefix, hash, created_ms, expires_ms,
/// revoked_ms, allowed_models, max_tokens_cap, tags, lock_tags, rpm, tpm, default_max_tokens</c> in that order.
/// </summary>
public static class VirtualKeyRow
{
    public static VirtualKey Read(DbDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return new VirtualKey
        {
            Id = reader.GetString(0),
            Name = reader.GetString(1),
            Prefix = reader.GetString(2),
            Hash = reader.GetString(3),
            CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
            ExpiresAt = reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
            RevokedAt = reader.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)),
            AllowedModels = JsonSerializer.Deserialize<List<string>>(reader.GetString(7)) ?? [],
            MaxTokensCap = reader.IsDBNull(8) ? null : reader.GetInt32(8),
            Tags = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(9)) ?? [],
            LockTags = reader.GetBoolean(10),
            RateLimit = new RateLimits.RateLimit(reader.IsDBNull(11) ? null : reader.GetInt32(11), reader.IsDBNull(12) ? null : reader.GetInt32(12)),
            MaxTokensDefault = reader.IsDBNull(13) ? null : reader.GetInt32(13),
        };
    }
}
