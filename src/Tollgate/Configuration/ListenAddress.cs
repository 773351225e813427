namespace Tollgate.Configuration;

/// <summary>
/// Where the gateway listens. In order: <c>serve --listen</c> (applied by the command), the config's <c>listen</c>,
/// <c>ASPNETCORE_URLS</c> (one or more URLs separated by ';', with <c>*</c> or <c>+</c> for every interface, as every
/// ASP.NET container sets it), <c>ASPNETCORE_HTTP_PORTS</c> (ports on every interface, the .NET container images'
/// default), and finally 127.0.0.1:4000.
/// </summary>
internal static class ListenAddress
{
    /// <summary>The address clients are told about, and the URLs Kestrel binds when they are more than that address.</summary>
    public static (Uri? Listen, IReadOnlyList<string>? BindUrls) Resolve(string? configured, Func<string, string?> environment, ConfigDiagnostics diagnostics)
    {
        if (configured is not null)
        {
            return (Parse(configured, "listen", diagnostics), null);
        }

        if (environment("ASPNETCORE_URLS") is { Length: > 0 } urls)
        {
            return FromUrls([.. urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)], "ASPNETCORE_URLS", diagnostics);
        }

        if (environment("ASPNETCORE_HTTP_PORTS") is { Length: > 0 } ports)
        {
            var list = ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (list.Any(p => !ushort.TryParse(p, out var port) || port == 0))
            {
                diagnostics.Error("ASPNETCORE_HTTP_PORTS", $"'{ports}' is not a list of ports separated by ';'");
                return (null, null);
            }

            return FromUrls([.. list.Select(p => "http://*:" + p)], "ASPNETCORE_HTTP_PORTS", diagnostics);
        }

        return (new Uri(ConfigLoader.DefaultListen), null);
    }

    private static (Uri? Listen, IReadOnlyList<string>? BindUrls) FromUrls(IReadOnlyList<string> urls, string source, ConfigDiagnostics diagnostics)
    {
        Uri? first = null;
        foreach (var url in urls)
        {
            // Kestrel reads '*' and '+' as every interface; a System.Uri cannot hold them, so the address shown is 0.0.0.0.
            var shown = Parse(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), source, diagnostics);
            first ??= shown;
        }

        return (first, first is null ? null : urls);
    }

    private static Uri? Parse(string listen, string source, ConfigDiagnostics diagnostics)
    {
        var text = listen.Contains("://", StringComparison.Ordinal) ? listen : "http://" + listen;
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp)
        {
            return uri;
        }

        diagnostics.Error(source, $"'{listen}' is not host:port or an http:// URL (Tollgate serves plain HTTP; put TLS in front of it)");
        return null;
    }
}
