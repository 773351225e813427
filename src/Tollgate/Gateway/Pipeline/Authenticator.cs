using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Tollgate.Gateway.Errors;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Stage 1: checks the caller's key (<c>Authorization: Bearer …</c> or <c>x-api-key</c>): the master key (compared in
/// constant time), or a virtual key found by the hash of the secret, which must be neither revoked nor expired.
/// </summary>
public sealed class Authenticator
{
    private const int MaxKeyBytes = 512;

    private readonly byte[] _masterKey;
    private readonly Policy.Keys.KeyRegistry? _keys;
    private readonly TimeProvider _time;

    public Authenticator(string masterKey, Policy.Keys.KeyRegistry? keys = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(masterKey);
        _masterKey = Encoding.UTF8.GetBytes(masterKey);
        _keys = keys;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>True only for the master key: the admin API's credential.</summary>
    public bool IsMaster(HttpRequest request, out GatewayError? error)
    {
        var caller = Authenticate(request, out error);
        if (caller is { IsMaster: false })
        {
            error = new GatewayError(StatusCodes.Status403Forbidden, "permission_error", "admin_only", "This endpoint needs the master key.");
            return false;
        }

        return caller is not null;
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
        if (!Encoding.UTF8.TryGetBytes(presented, bytes, out var length))
        {
            error = GatewayError.Unauthorized("Incorrect API key provided.");
            return null;
        }

        if (CryptographicOperations.FixedTimeEquals(bytes[..length], _masterKey))
        {
            error = null;
            return new CallerIdentity("master");
        }

        if (_keys?.FindBySecret(presented) is { } key)
        {
            if (key.Unusable(_time.GetUtcNow()) is { } reason)
            {
                error = GatewayError.Unauthorized(reason);
                return null;
            }

            error = null;
            return new CallerIdentity(key.Id, key);
        }

        error = GatewayError.Unauthorized("Incorrect API key provided.");
        return null;
    }

    private static string? PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization[7..].Trim();
        }

        // A browser on the dashboard sends HTTP Basic: any user name, the key as the password.
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                return colon >= 0 ? pair[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }

        var apiKey = request.Headers["x-api-key"].ToString();
        return apiKey.Length > 0 ? apiKey.Trim() : null;
    }
}
