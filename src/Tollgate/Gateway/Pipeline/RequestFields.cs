using System.Text.Json;
using Tollgate.Gateway.Errors;
using Tollgate.Providers;

namespace Tollgate.Gateway.Pipeline;

/// <summary>
/// The rules for every body field the gateway itself reads — to route, count, reserve, attribute or translate a
/// request. A field that breaks its rule gets a 400 naming it, before any stage reads it; fields the gateway does not
/// read are the provider's to judge and pass through untouched. The rules are listed in docs/RESILIENCE.md.
/// </summary>
public static class RequestFields
{
    /// <summary>Longer model names are refused (the longest real ones are well under 100 characters).</summary>
    public const int MaxModelLength = 256;

    /// <summary>OpenAI's own limit for <c>n</c>: each choice is billed, so <c>n</c> multiplies the worst case.</summary>
    public const int MaxChoices = 128;

    /// <summary>OpenAI's limit on the inputs of one embeddings request (each is embedded, and answered, separately).</summary>
    public const int MaxEmbeddingInputs = 2048;

    public static GatewayError? Check(JsonElement body, GatewayEndpoint endpoint, out string? model, out bool stream)
    {
        model = null;
        stream = false;
        if (body.ValueKind != JsonValueKind.Object)
        {
            return GatewayError.InvalidRequest("The request body must be a JSON object.");
        }

        if (!body.TryGetProperty("model", out var m) || m.ValueKind == JsonValueKind.Null)
        {
            return GatewayError.InvalidRequest("You must provide a model parameter.", "missing_model", "model");
        }

        if (m.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(m.GetString()))
        {
            return GatewayError.InvalidRequest("'model' must be a non-empty string.", "invalid_model", "model");
        }

        if (m.GetString()!.Length > MaxModelLength)
        {
            return GatewayError.InvalidRequest($"'model' must be at most {MaxModelLength} characters.", "invalid_model", "model");
        }

        model = m.GetString();
        stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var error = Boolean(body, "stream")
            ?? Kind(body, "user", JsonValueKind.String, "a string")
            ?? Kind(body, "metadata", JsonValueKind.Object, "an object");
        if (error is not null)
        {
            return error;
        }

        return endpoint switch
        {
            GatewayEndpoint.Embeddings => CheckEmbeddings(body, stream),
            GatewayEndpoint.Completions => CheckCompletions(body),
            GatewayEndpoint.Responses => CheckResponses(body),
            _ => CheckChat(body, endpoint),
        };
    }

    /// <summary>
    /// How many completions the provider generates and bills: <c>n</c> (1 when absent); for a legacy completion,
    /// <c>best_of</c> when larger (all are billed, <c>n</c> returned), times the prompts of a prompt array.
    /// </summary>
    public static int Choices(JsonElement body)
    {
        var n = Count(body, "n");
        var perPrompt = Math.Max(n, Count(body, "best_of"));
        var prompts = body.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.Array && prompt.GetArrayLength() > 0
            && prompt[0].ValueKind is JsonValueKind.String or JsonValueKind.Array
                ? prompt.GetArrayLength()
                : 1;
        return (int)Math.Min(int.MaxValue, (long)perPrompt * prompts);

        static int Count(JsonElement body, string name) =>
            body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var count) && count > 1 ? count : 1;
    }

    /// <summary>
    /// A legacy completion: <c>prompt</c> (a string, strings, token ids, or arrays of token ids) is required; the numbers
    /// have their ranges (<c>best_of</c> at least <c>n</c>).
    /// </summary>
    private static GatewayError? CheckCompletions(JsonElement body)
    {
        if (!body.TryGetProperty("prompt", out var prompt) || prompt.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return GatewayError.InvalidRequest("Missing required parameter: 'prompt' (a string or an array).", "missing_required_parameter", "prompt");
        }

        var error = TextOrTokens(prompt, "prompt") ?? Integer(body, "max_tokens", 0, int.MaxValue) ?? Integer(body, "n", 1, MaxChoices) ?? Integer(body, "best_of", 1, MaxChoices)
            ?? Integer(body, "logprobs", 0, 20) ?? Boolean(body, "echo") ?? Kind(body, "suffix", JsonValueKind.String, "a string")
            ?? Kind(body, "stream_options", JsonValueKind.Object, "an object");
        if (error is not null)
        {
            return error;
        }

        if (Optional(body, "stream_options", out var options) && Boolean(options, "include_usage", "stream_options.include_usage") is { } usageError)
        {
            return usageError;
        }

        return Choices(body) > MaxChoices * 16
            ? GatewayError.InvalidRequest($"'n' (or 'best_of') times the prompts in 'prompt' must be at most {MaxChoices * 16}.", "invalid_value", "n")
            : body.TryGetProperty("best_of", out var bestOf) && bestOf.ValueKind == JsonValueKind.Number && bestOf.TryGetInt32(out var best) && best < RequestCountOf(body, "n")
                ? GatewayError.InvalidRequest("'best_of' must be at least 'n'.", "invalid_value", "best_of")
                : null;
    }

    /// <summary>
    /// A Responses API request: <c>input</c> (a string or an array of items) is required; the fields the gateway reads
    /// have their types (<c>max_output_tokens</c> at least 1).
    /// </summary>
    private static GatewayError? CheckResponses(JsonElement body)
    {
        if (!body.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return GatewayError.InvalidRequest("Missing required parameter: 'input' (a string or an array of items).", "missing_required_parameter", "input");
        }

        if (input.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in input.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    return WrongType($"input[{index}]", "an object");
                }

                if (item.TryGetProperty("content", out var content) && content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
                {
                    return WrongType($"input[{index}].content", "a string or an array");
                }

                index++;
            }
        }

        return Integer(body, "max_output_tokens", 1, int.MaxValue)
            ?? Kind(body, "instructions", JsonValueKind.String, "a string")
            ?? ArrayOfObjects(body, "tools")
            ?? Kind(body, "reasoning", JsonValueKind.Object, "an object")
            ?? Kind(body, "text", JsonValueKind.Object, "an object")
            ?? Kind(body, "previous_response_id", JsonValueKind.String, "a string")
            ?? Boolean(body, "store");
    }

    private static int RequestCountOf(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var count) ? count : 1;

    private static GatewayError? CheckChat(JsonElement body, GatewayEndpoint endpoint)
    {
        var error = CheckMessages(body) ?? Integer(body, "max_tokens", 1, int.MaxValue) ?? Integer(body, "max_completion_tokens", 1, int.MaxValue)
            ?? (endpoint == GatewayEndpoint.ChatCompletions ? Integer(body, "n", 1, MaxChoices) : null)
            ?? Kind(body, "stream_options", JsonValueKind.Object, "an object")
            ?? ArrayOfObjects(body, "tools") ?? ArrayOfObjects(body, "functions")
            ?? CheckTools(body)
            ?? Kind(body, "response_format", JsonValueKind.Object, "an object")
            ?? Kind(body, "prediction", JsonValueKind.Object, "an object")
            ?? Content(body, "system", within: null)
            ?? Kind(body, "thinking", JsonValueKind.Object, "an object");
        if (error is not null)
        {
            return error;
        }

        if (Optional(body, "stream_options", out var options) && Boolean(options, "include_usage", "stream_options.include_usage") is { } usageError)
        {
            return usageError;
        }

        if (Optional(body, "prediction", out var prediction) && Content(prediction, "content", "prediction") is { } predictionError)
        {
            return predictionError;
        }

        return Optional(body, "thinking", out var thinking) ? Integer(thinking, "budget_tokens", 0, int.MaxValue, "thinking.budget_tokens") : null;
    }

    private static GatewayError? CheckMessages(JsonElement body)
    {
        if (!body.TryGetProperty("messages", out var messages))
        {
            return GatewayError.InvalidRequest("Missing required parameter: 'messages'.", "missing_required_parameter", "messages");
        }

        if (messages.ValueKind != JsonValueKind.Array)
        {
            return WrongType("messages", "an array");
        }

        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (CheckMessage(message, $"messages[{index++}]") is { } error)
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>Tool definitions' functions, and <c>tool_choice</c>: a string or an object naming a function.</summary>
    private static GatewayError? CheckTools(JsonElement body)
    {
        if (Optional(body, "tools", out var tools))
        {
            var index = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                if (Function(tool, $"tools[{index++}].function") is { } error)
                {
                    return error;
                }
            }
        }

        if (!Optional(body, "tool_choice", out var choice))
        {
            return null;
        }

        return choice.ValueKind switch
        {
            JsonValueKind.String => null,
            JsonValueKind.Object => Function(choice, "tool_choice.function"),
            _ => WrongType("tool_choice", "a string or an object"),
        };
    }

    private static GatewayError? CheckMessage(JsonElement message, string path)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            return WrongType(path, "an object");
        }

        if (!message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
        {
            return WrongType(path + ".role", "a string");
        }

        // Paths are written only for an error: a valid message costs no strings.
        var error = Content(message, "content", path)
            ?? KindIn(message, "name", JsonValueKind.String, "a string", path)
            ?? KindIn(message, "tool_call_id", JsonValueKind.String, "a string", path)
            ?? (Optional(message, "tool_calls", out _) ? ArrayOfObjects(message, "tool_calls", In(path, "tool_calls")) : null);
        if (error is not null || !Optional(message, "tool_calls", out var calls))
        {
            return error;
        }

        var index = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var callPath = $"{path}.tool_calls[{index++}]";
            error = Kind(call, "id", JsonValueKind.String, "a string", callPath + ".id")
                ?? Function(call, callPath + ".function");
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>
    /// A <c>function</c> object of a tool definition or a tool call, where present: an object with a string name, and
    /// string description and arguments and an object of parameters where those are present.
    /// </summary>
    private static GatewayError? Function(JsonElement parent, string path)
    {
        // Present means an object: translators read a function that is there, even as null.
        if (!parent.TryGetProperty("function", out var function))
        {
            return null;
        }

        if (function.ValueKind != JsonValueKind.Object)
        {
            return WrongType(path, "an object");
        }

        if (!function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            return WrongType(path + ".name", "a string");
        }

        return Kind(function, "description", JsonValueKind.String, "a string", path + ".description")
            ?? Kind(function, "arguments", JsonValueKind.String, "a string (of JSON)", path + ".arguments")
            ?? Kind(function, "parameters", JsonValueKind.Object, "an object", path + ".parameters");
    }

    /// <summary>Content is a string, or an array of part objects whose <c>type</c> and <c>text</c> (where present) are strings.</summary>
    private static GatewayError? Content(JsonElement parent, string name, string? within)
    {
        if (!Optional(parent, name, out var content) || content.ValueKind == JsonValueKind.String)
        {
            return null;
        }

        var path = In(within, name);

        if (content.ValueKind != JsonValueKind.Array)
        {
            return WrongType(path, "a string or an array of content parts");
        }

        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partPath = $"{path}[{index++}]";
            if (part.ValueKind != JsonValueKind.Object)
            {
                return WrongType(partPath, "an object");
            }

            var error = KindIn(part, "type", JsonValueKind.String, "a string", partPath)
                ?? KindIn(part, "text", JsonValueKind.String, "a string", partPath)
                ?? KindIn(part, "image_url", JsonValueKind.Object, "an object", partPath);
            if (error is not null)
            {
                return error;
            }

            part.TryGetProperty("type", out var type);
            if (type.ValueKind == JsonValueKind.String && type.ValueEquals("text") && (!part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String))
            {
                return WrongType(partPath + ".text", "a string");
            }

            if (type.ValueKind == JsonValueKind.String && type.ValueEquals("image_url") && (!part.TryGetProperty("image_url", out var image) || image.ValueKind != JsonValueKind.Object))
            {
                return WrongType(partPath + ".image_url", "an object");
            }

            if (Optional(part, "image_url", out image) && (!image.TryGetProperty("url", out var url) || url.ValueKind != JsonValueKind.String))
            {
                return WrongType(partPath + ".image_url.url", "a string");
            }
        }

        return null;
    }

    /// <summary>
    /// An embeddings <c>input</c> or a legacy completion's <c>prompt</c>: a string, or an array of 1 to
    /// <see cref="MaxEmbeddingInputs"/> strings, token ids or arrays of token ids.
    /// </summary>
    private static GatewayError? TextOrTokens(JsonElement value, string name)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        if (value.GetArrayLength() is 0 or > MaxEmbeddingInputs)
        {
            return GatewayError.InvalidRequest($"'{name}' must hold from 1 to {MaxEmbeddingInputs} items.", "invalid_value", name);
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var valid = item.ValueKind switch
            {
                JsonValueKind.String => true,
                JsonValueKind.Number => item.TryGetInt32(out var id) && id >= 0,
                JsonValueKind.Array => item.EnumerateArray().All(t => t.ValueKind == JsonValueKind.Number && t.TryGetInt32(out var id) && id >= 0),
                _ => false,
            };
            if (!valid)
            {
                return WrongType($"{name}[{index}]", "a string, a token id or an array of token ids");
            }

            index++;
        }

        return null;
    }

    private static GatewayError? CheckEmbeddings(JsonElement body, bool stream)
    {
        if (stream)
        {
            return GatewayError.InvalidRequest("Embeddings cannot be streamed.", "invalid_value", "stream");
        }

        if (!body.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return GatewayError.InvalidRequest("Missing required parameter: 'input' (a string or an array).", "missing_required_parameter", "input");
        }

        return TextOrTokens(input, "input") ?? Integer(body, "dimensions", 1, int.MaxValue) ?? Kind(body, "encoding_format", JsonValueKind.String, "a string");
    }

    /// <summary>True when the field is present and not null (null means "not set", as providers read it).</summary>
    private static bool Optional(JsonElement parent, string name, out JsonElement value) =>
        parent.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static GatewayError? Kind(JsonElement parent, string name, JsonValueKind kind, string description, string? path = null) =>
        Optional(parent, name, out var value) && value.ValueKind != kind ? WrongType(path ?? name, description) : null;

    /// <summary><see cref="Kind"/> of a field of the object at <paramref name="within"/>, its path written only for an error.</summary>
    private static GatewayError? KindIn(JsonElement parent, string name, JsonValueKind kind, string description, string within) =>
        Optional(parent, name, out var value) && value.ValueKind != kind ? WrongType(In(within, name), description) : null;

    /// <summary>The path of field <paramref name="name"/> of the object at <paramref name="within"/> (null: the body).</summary>
    private static string In(string? within, string name) => within is null ? name : $"{within}.{name}";

    private static GatewayError? Boolean(JsonElement parent, string name, string? path = null) =>
        Optional(parent, name, out var value) && value.ValueKind is not (JsonValueKind.True or JsonValueKind.False) ? WrongType(path ?? name, "a boolean") : null;

    private static GatewayError? ArrayOfObjects(JsonElement parent, string name, string? path = null)
    {
        path ??= name;
        if (!Optional(parent, name, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return WrongType(path, "an array");
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                return WrongType($"{path}[{index}]", "an object");
            }

            index++;
        }

        return null;
    }

    private static GatewayError? Integer(JsonElement parent, string name, long min, long max, string? path = null)
    {
        if (!Optional(parent, name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) && n >= min && n <= max
            ? null
            : GatewayError.InvalidRequest(
                $"'{path ?? name}' must be an integer from {min} to {max}; got {Quote(value)}.", value.ValueKind == JsonValueKind.Number ? "invalid_value" : "invalid_type", path ?? name);
    }

    private static GatewayError WrongType(string path, string description) =>
        GatewayError.InvalidRequest($"'{path}' must be {description}.", "invalid_type", path);

    /// <summary>The value as the client wrote it, shortened: an error message never echoes a megabyte back.</summary>
    private static string Quote(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.Length <= 40 ? raw : raw[..40] + "…";
    }
}
