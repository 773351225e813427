using System.Text.RegularExpressions;

namespace Tollgate.Routing;

/// <summary>
/// One rule of a router: when every condition it names holds, the request goes to <see cref="Target"/>. Conditions:
/// the feature, a tag (<c>name=value</c>), the key, the prompt's length in characters or tokens, whether it has tools,
/// images or a <c>response_format</c>, and a regular expression on the last user message.
/// </summary>
public sealed record RouteRule(string Name, string Target)
{
    /// <summary>How long a rule's regular expression may run on one message before the rule is taken as not matching.</summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(20);

    public string? Feature { get; init; }
    public (string Name, string Value)? Tag { get; init; }
    public string? Key { get; init; }
    public long? MinChars { get; init; }
    public long? MaxChars { get; init; }
    public long? MinTokens { get; init; }
    public long? MaxTokens { get; init; }
    public bool? Tools { get; init; }
    public bool? Images { get; init; }
    public bool? ResponseFormat { get; init; }
    public Regex? Pattern { get; init; }

    /// <summary>Whether the rule counts the prompt's tokens (the one condition that costs a tokenizer run).</summary>
    public bool NeedsTokens => MinTokens is not null || MaxTokens is not null;

    public bool Matches(RouteRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var a = request.Attribution;
        if ((Feature is not null && a.Feature != Feature)
            || (Tag is { } tag && a.Tags.GetValueOrDefault(tag.Name) != tag.Value)
            || (Key is not null && a.KeyId != Key)
            || (Tools is { } tools && request.HasTools != tools)
            || (Images is { } images && request.HasImages != images)
            || (ResponseFormat is { } format && request.HasResponseFormat != format))
        {
            return false;
        }

        if ((MinChars is { } minChars && request.PromptCharacters < minChars) || (MaxChars is { } maxChars && request.PromptCharacters > maxChars))
        {
            return false;
        }

        if (NeedsTokens)
        {
            // A token is at least one UTF-8 byte: the byte count bounds the tokens from above, and often settles the rule
            // without running the tokenizer (a prompt of 300 bytes has not 1,000 tokens).
            var bytes = request.PromptUtf8Bytes;
            if (MinTokens is { } atLeast && bytes < atLeast)
            {
                return false;
            }

            var tokens = MinTokens is null && bytes <= MaxTokens ? bytes : request.PromptTokens();
            if ((MinTokens is { } minTokens && tokens < minTokens) || (MaxTokens is { } maxTokens && tokens > maxTokens))
            {
                return false;
            }
        }

        if (Pattern is not null)
        {
            try
            {
                return request.LastUserText is { } text && Pattern.IsMatch(text);
            }
            catch (RegexMatchTimeoutException)
            {
                return false;
            }
        }

        return true;
    }
}
