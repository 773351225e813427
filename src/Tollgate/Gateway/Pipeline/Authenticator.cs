using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Errors;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Stage 1: checks the caller's key (<c>Authorization: Bearer …</c> or <c>x-api-key</c>) against the master key.
/// The comparison is constant-time in the key's content.
/// </summary>
public sealed class Authenticator
{
    private const int MaxKeyBytes = 512;

    private readonly byte[] _masterKey;

    public Authenticator(string masterKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(masterKey);
        _masterKey = Encoding.UTF8.GetBytes(masterKey);
    }

    public CallerIdentity? Authenticate(HttpRequest request, out GatewayError? error)
    {
        ArgumentNullException.ThrowIfNull(request);
        var presented = PresentedKey(request);
        if (string.IsNullOrEmpty(presented))
        {
            error = GatewayError.Unauthorized("Missing API key. Send it as 'Authorization: Bearer <key>'.");
            return null;
        }

        Span<byte> bytes = stackalloc byte[MaxKeyBytes];
        if (!Encoding.UTF8.TryGetBytes(presented, bytes, out var length)
            || !CryptographicOperations.FixedTimeEquals(bytes[..length], _masterKey))
        {
            error = GatewayError.Unauthorized("Incorrect API key provided.");
            return null;
        }

        error = null;
        return new CallerIdentity("master");
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization[7..].Trim();
        }

        var apiKey = request.Headers["x-api-key"].ToString();
        return apiKey.Length > 0 ? apiKey.Trim() : null;
    }
}
