using System.Text.Json;
using Tollgate.Ledger;

namespace Tollgate.Routing;

/// <summary>
/// What a router may look at in a request: who asks (attribution), and the prompt — its length, whether it carries tools,
/// images or a response format, and its last user message. Read from the body once, on demand; the token count only
/// when a rule needs it.
/// </summary>
public sealed class RouteRequest(JsonElement body, Attribution attribution, Func<long> countPromptTokens)
{
    private long? _tokens;
    private bool _scanned;
    private long _characters;
    private long _utf8Bytes;
    private bool _images;
    private string? _lastUserText;

    public Attribution Attribution { get; } = attribution;

    public bool HasTools => RecordedFacts is { } facts ? facts.Shape.HasFlag(PromptShape.Tools) : body.ValueKind == JsonValueKind.Object
        && ((body.TryGetProperty("tools", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0)
            || (body.TryGetProperty("functions", out var functions) && functions.ValueKind == JsonValueKind.Array && functions.GetArrayLength() > 0));

    public bool HasResponseFormat => RecordedFacts is { } facts ? facts.Shape.HasFlag(PromptShape.ResponseFormat) : body.ValueKind == JsonValueKind.Object && body.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object;

    /// <summary>Characters of text in every message (string contents and text parts, system prompt included).</summary>
    public long PromptCharacters
    {
        get
        {
            Scan();
            return RecordedFacts?.Characters ?? _characters;
        }
    }

    /// <summary>UTF-8 bytes of text in every message: no prompt has more tokens than that (unknown, so the most, for a replayed record).</summary>
    public long PromptUtf8Bytes
    {
        get
        {
            Scan();
            return Replayed ? long.MaxValue : _utf8Bytes;
        }
    }

    public bool HasImages
    {
        get
        {
            Scan();
            return RecordedFacts is { } facts ? facts.Shape.HasFlag(PromptShape.Images) : _images;
        }
    }

    /// <summary>The text of the last user message, or null.</summary>
    public string? LastUserText
    {
        get
        {
            Scan();
            return _lastUserText;
        }
    }

    public long PromptTokens() => _tokens ??= countPromptTokens();

    /// <summary>A ledger record replayed (<c>route simulate</c>): no body, so the prompt's size is unknown.</summary>
    public bool Replayed => RecordedOutputTokens is not null;

    /// <summary>Replaying a ledger record that kept its prompt's facts (<c>storage.record_prompt_facts</c>): its length, shape and vector.</summary>
    public PromptFacts? RecordedFacts { get; init; }

    /// <summary>Replaying a ledger record: the output it produced stands for the room it asked (the request is not kept).</summary>
    public long? RecordedOutputTokens { get; init; }

    /// <summary>The output the request asks room for (<c>max_completion_tokens</c>, else <c>max_tokens</c>), 0 when it names none.</summary>
    public long MaxOutputTokens =>
        RecordedOutputTokens is { } recorded ? recorded
        : body.ValueKind == JsonValueKind.Object
        && (body.TryGetProperty("max_completion_tokens", out var limit) || body.TryGetProperty("max_tokens", out limit))
        && limit.ValueKind == JsonValueKind.Number && limit.TryGetInt64(out var tokens) && tokens > 0
            ? tokens
            : 0;

    /// <summary>Who a sticky router keeps on one target: the user, else the session, else nobody (null).</summary>
    public string? StickyKey(StickyBy by) => by switch
    {
        StickyBy.User => Attribution.User ?? Attribution.Session,
        StickyBy.Session => Attribution.Session ?? Attribution.User,
        _ => null,
    };

    private void Scan()
    {
        if (_scanned)
        {
            return;
        }

        _scanned = true;
        if (body.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (body.TryGetProperty("system", out var system))
        {
            Count(system, user: false);
        }

        if (body.TryGetProperty("instructions", out var instructions))
        {
            Count(instructions, user: false);
        }

        // A legacy completion's prompt, or a Responses input given as one string, is the user's text.
        foreach (var name in new[] { "prompt", "input" })
        {
            if (body.TryGetProperty(name, out var text) && text.ValueKind == JsonValueKind.String)
            {
                Count(text, user: true);
            }
        }

        // Chat messages, or a Responses input given as items (message items have a role and content).
        var items = body.TryGetProperty("messages", out var messages) ? messages : body.TryGetProperty("input", out var input) ? input : default;
        if (items.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var message in items.EnumerateArray())
        {
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content))
            {
                var user = message.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String && role.ValueEquals("user");
                Count(content, user);
            }
        }
    }

    /// <summary>Adds a content's text (a string, or parts of type text) and notes images; the last user content's text is kept.</summary>
    private void Count(JsonElement content, bool user)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            var text = content.GetString() ?? string.Empty;
            _characters += text.Length;
            _utf8Bytes += System.Text.Encoding.UTF8.GetByteCount(text);
            _lastUserText = user ? text : _lastUserText;
            return;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var texts = user ? new List<string>() : null;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            if ((type.ValueEquals("text") || type.ValueEquals("input_text")) && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                var value = text.GetString() ?? string.Empty;
                _characters += value.Length;
                _utf8Bytes += System.Text.Encoding.UTF8.GetByteCount(value);
                texts?.Add(value);
            }
            else if (type.ValueEquals("image_url") || type.ValueEquals("image") || type.ValueEquals("input_image"))
            {
                _images = true;
            }
        }

        if (texts is not null)
        {
            _lastUserText = string.Join('\n', texts);
        }
    }
}
