using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Tollgate.Gateway.Errors;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// Limits on a request's line and headers, enforced by the gateway so that a refusal is OpenAI's error JSON. Kestrel
/// answers the requests it refuses itself with an empty body and cannot be made to do otherwise; so Kestrel's own
/// limits are set well above these (<see cref="ConfigureKestrel"/>) and this stage refuses first. Only what is past
/// Kestrel's limits, or what Kestrel cannot parse at all (a NUL in a header, <c>%00</c> in the path, a garbage request
/// line), still gets Kestrel's empty answer; docs/RESILIENCE.md lists those.
/// </summary>
public static class RequestHeadLimits
{
    /// <summary>Kestrel's own defaults, which clients and proxies are used to.</summary>
    public const int MaxHeaderCount = 100;
    public const int MaxHeadersTotalBytes = 32 * 1024;
    public const int MaxTargetBytes = 8 * 1024;

    /// <summary>Kestrel's limits, above which it refuses with an empty body before the gateway sees the request.</summary>
    public const int KestrelMaxHeaderCount = 20_000;
    public const int KestrelMaxHeadersTotalBytes = 1024 * 1024;
    public const int KestrelMaxRequestLineBytes = 64 * 1024;

    public static void ConfigureKestrel(KestrelServerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.MaxRequestHeaderCount = KestrelMaxHeaderCount;
        limits.MaxRequestHeadersTotalSize = KestrelMaxHeadersTotalBytes;
        limits.MaxRequestLineSize = KestrelMaxRequestLineBytes;
    }

    /// <summary>The error for a request whose line or headers are over the limits, or null.</summary>
    public static GatewayError? Check(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var target = request.Path.Value?.Length + request.QueryString.Value?.Length ?? 0;
        if (target > MaxTargetBytes)
        {
            return new GatewayError(StatusCodes.Status414UriTooLong, "invalid_request_error", "uri_too_long", $"The request path and query are longer than {MaxTargetBytes} characters.");
        }

        var headers = request.Headers;
        if (headers.Count > MaxHeaderCount)
        {
            return TooLarge($"The request has {headers.Count} headers; at most {MaxHeaderCount} are accepted.");
        }

        long total = 0;
        foreach (var (name, values) in headers)
        {
            total += name.Length + 4;
            foreach (var value in values)
            {
                total += value?.Length ?? 0;
            }
        }

        return total > MaxHeadersTotalBytes ? TooLarge($"The request headers are larger than {MaxHeadersTotalBytes} bytes together.") : null;
    }

    private static GatewayError TooLarge(string message) =>
        new(StatusCodes.Status431RequestHeaderFieldsTooLarge, "invalid_request_error", "request_header_fields_too_large", message);
}
