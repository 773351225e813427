namespace Tollgate.Providers;

/// <summary>
/// The provider response headers a client may rely on — retry hints and rate-limit state, which SDKs read to back
/// off — passed through by allow-list. The provider's own request id is renamed so it does not hide the gateway's.
/// </summary>
public static class UpstreamHeaders
{
    public const string UpstreamRequestId = "X-Upstream-Request-ID";

    public static IReadOnlyList<KeyValuePair<string, string>> None { get; } = [];

    /// <summary>The provider's own request id among selected headers (OpenAI's <c>x-request-id</c>, Anthropic's <c>request-id</c>), or null.</summary>
    public static string? RequestIdIn(IReadOnlyList<KeyValuePair<string, string>> selected)
    {
        ArgumentNullException.ThrowIfNull(selected);
        for (var i = 0; i < selected.Count; i++) // by index: a foreach over the interface would box its enumerator
        {
            var (name, value) = selected[i];
            if (name == UpstreamRequestId)
            {
                return value.Length <= 200 ? value : null;
            }
        }

        return null;
    }

    /// <summary>
    /// The answer's Content-Type as the provider wrote it (read, not parsed), or <paramref name="otherwise"/> when it
    /// sent none or one with characters a response header may not carry.
    /// </summary>
    public static string ContentType(HttpResponseMessage response, string otherwise)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.Content.Headers.NonValidated.TryGetValues("Content-Type", out var values)
            && values.Count == 1
            && values.ToString() is { Length: > 0 } raw
            && !raw.AsSpan().ContainsAnyExceptInRange(' ', '~')
            ? raw
            : otherwise;
    }

    public static IReadOnlyList<KeyValuePair<string, string>> Select(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        List<KeyValuePair<string, string>>? selected = null;
        // Read without validation: the values pass through as the provider wrote them, and nothing is parsed.
        foreach (var header in response.Headers.NonValidated)
        {
            var name = header.Key;
            var passed = name.Equals("retry-after", StringComparison.OrdinalIgnoreCase)
                || name.Equals("retry-after-ms", StringComparison.OrdinalIgnoreCase)
                || name.Equals("openai-processing-ms", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("x-ratelimit-", StringComparison.OrdinalIgnoreCase)
                ? name
                : name.Equals("x-request-id", StringComparison.OrdinalIgnoreCase) || name.Equals("request-id", StringComparison.OrdinalIgnoreCase) ? UpstreamRequestId : null;
            if (passed is not null)
            {
                (selected ??= []).Add(new(passed, header.Value.ToString()));
            }
        }

        return selected ?? None;
    }
}
