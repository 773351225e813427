using Microsoft.AspNetCore.Http;

namespace Tollgate.Optimization.ResponseCaching;

/// <summary>
/// What the client's <c>Cache-Control</c> header allows: <c>no-cache</c> asks for a fresh answer (not served from the
/// cache; the fresh one replaces the kept one), <c>no-store</c> keeps the request out of the cache both ways.
/// </summary>
public readonly record struct CacheDirective(bool MayServe, bool MayStore)
{
    public const string Header = "Cache-Control";

    public static CacheDirective Read(IHeaderDictionary headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        bool serve = true, store = true;
        foreach (var value in headers[Header])
        {
            foreach (var part in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (part.Equals("no-store", StringComparison.OrdinalIgnoreCase))
                {
                    serve = store = false;
                }
                else if (part.Equals("no-cache", StringComparison.OrdinalIgnoreCase))
                {
                    serve = false;
                }
            }
        }

        return new CacheDirective(serve, store);
    }
}
