using System.Text;
using System.Text.Json;

namespace Tollgate.Metering.Tokenization;

/// <summary>
/// Counts the prompt tokens of a chat, messages or embeddings request before it is sent, and bounds what the provider
/// can bill for them.
/// <para>
/// Estimate: for OpenAI families the BPE of every message field plus the chat format's documented overhead (3 tokens
/// a message, 1 for a name, 3 to prime the reply), exact for text messages. Images, tool definitions, tool calls and
/// response schemas are formatted by the provider in ways it does not publish, so a request with them is counted
/// approximately and marked inexact. A family whose tokenizer is not public (Claude, Gemini, Llama, Mistral…) is
/// approximated with o200k_base and marked inexact.
/// </para>
/// <para>
/// Bound: text of an OpenAI family at its exact count; text of any other family at one token per UTF-8 byte (no
/// byte-level BPE or byte-fallback tokenizer emits more); each image at <see cref="ImageTokenBound"/>; tool
/// definitions and schemas as their JSON plus an allowance for the provider's wrapping; a fixed allowance for the
/// hidden format tokens of newer models. Parts that cannot be bounded before the call — files, audio, tools the
/// provider bills per use — are named in <see cref="PromptTokenCount.Unbounded"/>.
/// </para>
/// </summary>
public static class PromptTokenCounter
{
    private const string Approximation = "o200k_base approximation";
    private const int TokensPerMessage = 3;
    private const int TokensPerName = 1;
    private const int TokensPerReply = 3;

    /// <summary>Bound allowances: per request (hidden system tokens), per message of an unknown format, per tool.</summary>
    internal const int RequestAllowance = 64;
    private const int MessageAllowance = 8;
    private const int ToolAllowance = 16;

    /// <summary>Anthropic adds a tool-use system prompt (about 300–530 tokens, by model and tool_choice) when tools are sent.</summary>
    private const int ToolSystemPromptAllowance = 600;

    /// <summary>Content part types whose tokens depend on what the provider extracts from them (pages, seconds).</summary>
    private static readonly HashSet<string> UnboundedParts = new(StringComparer.Ordinal) { "file", "input_file", "input_audio", "audio", "document", "video", "container_upload" };

    /// <summary>Anthropic server tools billed per use on top of tokens (OpenAI's built-in tools are bounded by <c>max_tool_calls</c> instead: <see cref="BuiltInToolCalls"/>).</summary>
    private static readonly string[] BilledToolPrefixes = ["web_search", "web_fetch", "code_execution"];

    public static PromptTokenCount Count(JsonElement body, string model)
    {
        var tally = new Tally(model);
        if (body.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var message in messages.EnumerateArray())
            {
                tally.Message(message, $"messages[{index++}]");
            }

            tally.Add(TokensPerReply);
        }

        tally.Definitions(body, "tools");
        tally.Definitions(body, "functions");
        if (body.TryGetProperty("response_format", out var format) && format.ValueKind == JsonValueKind.Object
            && !(format.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("text")))
        {
            tally.Json(format, ToolAllowance);
        }

        if (body.TryGetProperty("web_search_options", out var search) && search.ValueKind != JsonValueKind.Null)
        {
            tally.CannotBound("web_search_options (web search is billed per call)");
        }

        if (body.TryGetProperty("input", out var input))
        {
            tally.EmbeddingInput(input);
        }

        if (body.TryGetProperty("prompt", out var prompt))
        {
            // A legacy completion's prompt has the shapes of an embeddings input; its suffix is prompt too.
            tally.EmbeddingInput(prompt);
            if (body.TryGetProperty("suffix", out var suffix))
            {
                tally.Content(suffix, "suffix");
            }
        }

        if (body.TryGetProperty("instructions", out var instructions))
        {
            // The Responses API's system prompt.
            tally.Content(instructions, "instructions");
        }

        if (body.TryGetProperty("system", out var system))
        {
            // Anthropic-format bodies carry the system prompt apart from the messages.
            tally.Content(system, "system");
        }

        return tally.Result();
    }

    /// <summary>How a model's prompt is counted (<see cref="PromptTokenCount.Method"/>): two models with one method count alike.</summary>
    public static string MethodFor(string model) => ModelEncodings.For(model)?.Name ?? Approximation;

    /// <summary>
    /// The most output tokens a <c>prediction</c> (OpenAI's predicted outputs) can add: its tokens that the answer does
    /// not use are billed as output on top of <c>max_completion_tokens</c>.
    /// </summary>
    public static long PredictionBound(JsonElement body, string model)
    {
        if (!body.TryGetProperty("prediction", out var prediction) || prediction.ValueKind != JsonValueKind.Object
            || !prediction.TryGetProperty("content", out var content))
        {
            return 0;
        }

        var tally = new Tally(model, requestAllowance: 0);
        tally.Content(content, "prediction.content");
        return tally.Result().UpperBound;
    }

    /// <summary>A running count: the estimate, the bound, and whether either is approximate or impossible.</summary>
    private sealed class Tally(string model, int requestAllowance = RequestAllowance)
    {
        private readonly BpeEncoding? _known = ModelEncodings.For(model);
        private readonly string _model = model;
        private long _tokens;
        private long _bound = requestAllowance;
        private bool _exact = true;
        private string? _unbounded;

        private BpeEncoding Encoding => _known ?? BpeEncoding.O200kBase;

        public void Add(long tokens)
        {
            _tokens += tokens;
            _bound += tokens;
        }

        public void CannotBound(string what) => _unbounded ??= what;

        public void Message(JsonElement message, string path)
        {
            Add(TokensPerMessage);
            if (_known is null)
            {
                _bound += MessageAllowance;
            }

            if (message.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            foreach (var field in message.EnumerateObject())
            {
                switch (field.Name)
                {
                    case "role":
                        Text(field.Value);
                        break;
                    case "name":
                        Text(field.Value);
                        Add(TokensPerName);
                        break;
                    case "content":
                        Content(field.Value, path + ".content");
                        break;
                    case "tool_calls" or "function_call" or "tool_call_id":
                        Json(field.Value, 0);
                        break;
                    default:
                        break;
                }
            }
        }

        public void Content(JsonElement content, string path)
        {
            if (content.ValueKind != JsonValueKind.Array)
            {
                Text(content);
                return;
            }

            var index = 0;
            foreach (var part in content.EnumerateArray())
            {
                Part(part, $"{path}[{index++}]");
            }
        }

        private void Part(JsonElement part, string path)
        {
            if (part.ValueKind != JsonValueKind.Object)
            {
                Json(part, 0);
                return;
            }

            var type = part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                Text(text);
                return;
            }

            switch (type)
            {
                case "image_url" or "image" or "input_image":
                    _exact = false;
                    _tokens += ImageTokenBound.Estimate;
                    _bound += ImageTokenBound.For(_model);
                    break;
                case "tool_result" when part.TryGetProperty("content", out var result):
                    Content(result, path + ".content");
                    break;
                case "tool_use" when part.TryGetProperty("input", out var arguments):
                    Json(arguments, 0);
                    break;
                case "thinking" or "redacted_thinking":
                    Json(part, 0);
                    break;
                case { } other when UnboundedParts.Contains(other):
                    _exact = false;
                    CannotBound($"a '{other}' content part ({path})");
                    break;
                default:
                    _exact = false;
                    CannotBound($"a content part of type '{type ?? "(none)"}' ({path})");
                    break;
            }
        }

        public void Definitions(JsonElement body, string name)
        {
            if (!body.TryGetProperty(name, out var tools) || tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() == 0)
            {
                return;
            }

            foreach (var tool in tools.EnumerateArray())
            {
                if (tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                    && type.GetString() is { } kind && BilledToolPrefixes.Any(p => kind.StartsWith(p, StringComparison.Ordinal))
                    && BuiltInToolCalls.KindOf(kind) is null)
                {
                    CannotBound($"the tool '{kind}' (billed per use)");
                }
            }

            Json(tools, ToolAllowance * tools.GetArrayLength());
            if (_known is null)
            {
                _bound += ToolSystemPromptAllowance;
            }
        }

        /// <summary>JSON the provider rewrites into its own format before the model reads it: counted as its text.</summary>
        public void Json(JsonElement value, int allowance)
        {
            _exact = false;
            var raw = value.GetRawText();
            _tokens += Encoding.Count(raw);
            _bound += allowance + (_known is null ? System.Text.Encoding.UTF8.GetByteCount(raw) : Encoding.Count(raw));
        }

        public void EmbeddingInput(JsonElement input)
        {
            switch (input.ValueKind)
            {
                case JsonValueKind.String:
                    Text(input);
                    break;
                case JsonValueKind.Array:
                    foreach (var item in input.EnumerateArray())
                    {
                        switch (item.ValueKind)
                        {
                            case JsonValueKind.String:
                                Text(item);
                                break;
                            case JsonValueKind.Number:
                                Add(1); // a pre-tokenised input: one id is one token
                                break;
                            case JsonValueKind.Array:
                                Add(item.GetArrayLength());
                                break;
                            case JsonValueKind.Object when item.TryGetProperty("content", out _):
                                Message(item, "input"); // a Responses API message item
                                break;
                            case JsonValueKind.Object:
                                Json(item, 0); // another Responses item (a function call's output…): all of it is prompt
                                break;
                            default:
                                break;
                        }
                    }

                    break;
                default:
                    break;
            }
        }

        private void Text(JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.String)
            {
                return;
            }

            var text = value.GetString()!;
            var count = Encoding.Count(text);
            _tokens += count;
            _bound += _known is null ? System.Text.Encoding.UTF8.GetByteCount(text) : count;
        }

        public PromptTokenCount Result() => new(_tokens, _exact && _known is not null, _known is null ? Approximation : Encoding.Name)
        {
            UpperBound = Math.Max(_tokens, _bound),
            Unbounded = _unbounded,
        };
    }
}
