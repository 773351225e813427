using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Errors;
using Tollgate.Providers;

namespace Tollgate.Gateway.Idempotency;

/// <summary>Reads the client's <c>Idempotency-Key</c> header and fingerprints the request it names.</summary>
public static class IdempotencyKeyHeader
{
    public const string Name = "Idempotency-Key";
    public const int MaxLength = 255;

    /// <summary>
    /// The key, or null when the client sent none. A key must be 1–255 visible ASCII characters (a UUID fits); anything
    /// else is refused rather than silently ignored, since the client relies on it to avoid paying twice.
    /// </summary>
    public static string? Read(IHeaderDictionary headers, out GatewayError? error)
    {
        ArgumentNullException.ThrowIfNull(headers);
        error = null;
        if (!headers.TryGetValue(Name, out var values) || values.Count == 0)
        {
            return null;
        }

        var key = values.Count == 1 ? values[0] : null;
        if (key is null || key.Length is 0 or > MaxLength || key.Any(c => c is < '!' or > '~'))
        {
            error = GatewayError.InvalidRequest(
                $"The {Name} header must be one value of 1 to {MaxLength} visible ASCII characters (for example a UUID).", "invalid_idempotency_key");
            return null;
        }

        return key;
    }

    /// <summary>SHA-256 over the endpoint and the body's bytes as the client sent them: a retry sends the same bytes.</summary>
    public static byte[] Fingerprint(GatewayEndpoint endpoint, ReadOnlySpan<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.ASCII.GetBytes(endpoint.ToString()));
        hash.AppendData([0]);
        hash.AppendData(body);
        return hash.GetHashAndReset();
    }
}
