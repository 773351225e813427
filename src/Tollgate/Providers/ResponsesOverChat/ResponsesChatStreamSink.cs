using System.Buffers;
using System.Text;
using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Providers.ResponsesOverChat;

/// <summary>
/// Relays a chat-completions stream (as a translating adapter produces it) to a Responses API client as the Responses
/// event sequence: <c>response.created</c>, <c>response.in_progress</c>, then per output item
/// <c>response.output_item.added</c>, for text <c>response.content_part.added</c> and <c>response.output_text.delta</c>
/// …, for a function call <c>response.function_call_arguments.delta</c> …, each closed by its <c>.done</c> events, and
/// at the end <c>response.completed</c> (or <c>response.incomplete</c> when the answer hit its limit) carrying the
/// usage the gateway recorded. Events are written as they arrive; nothing is buffered beyond the current item's text.
/// </summary>
public sealed class ResponsesChatStreamSink(IStreamSink inner) : IStreamSink
{
    private readonly List<ResponseOutputItem> _output = [];
    private readonly Dictionary<int, int> _callByToolIndex = [];
    private readonly Dictionary<int, StringBuilder> _arguments = [];
    private readonly StringBuilder _text = new();
    private string _id = "resp_chat";
    private string? _model;
    private long _createdAt;
    private bool _created;
    private int _sequence;
    private int? _messageIndex;
    private string? _finish;
    private Usage? _usage;

    public Task BeginAsync(IReadOnlyList<KeyValuePair<string, string>> upstreamHeaders, CancellationToken cancellationToken) =>
        inner.BeginAsync(upstreamHeaders, cancellationToken);

    public async ValueTask FinishAsync(Usage usage, long outputCharacters, CancellationToken cancellationToken)
    {
        _usage = usage;
        await inner.FinishAsync(usage, outputCharacters, cancellationToken);
    }

    public async ValueTask WriteEventAsync(ReadOnlyMemory<byte> sseEvent, CancellationToken cancellationToken)
    {
        var output = new ArrayBufferWriter<byte>(512);
        foreach (var data in DataOf(sseEvent))
        {
            Translate(data, output);
        }

        if (output.WrittenCount > 0)
        {
            await inner.WriteEventAsync(output.WrittenMemory, cancellationToken);
        }
    }

    private void Translate(string data, ArrayBufferWriter<byte> output)
    {
        if (data == "[DONE]")
        {
            Close(output);
            return;
        }

        using var document = TryParse(data);
        if (document?.RootElement is not { ValueKind: JsonValueKind.Object } chunk)
        {
            return;
        }

        if (chunk.TryGetProperty("error", out var error))
        {
            Event(output, "error", w =>
            {
                w.WriteString("code", error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String ? code.GetString() : null);
                w.WriteString("message", error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String ? message.GetString() : "The provider failed.");
            });
            return;
        }

        if (!_created)
        {
            _created = true;
            _id = "resp_" + (chunk.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : "chat");
            _model = chunk.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString() : null;
            _createdAt = chunk.TryGetProperty("created", out var created) && created.ValueKind == JsonValueKind.Number && created.TryGetInt64(out var at) ? at : 0;
            Event(output, "response.created", w => Response(w, "in_progress"));
            Event(output, "response.in_progress", w => Response(w, "in_progress"));
        }

        if (!chunk.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            return;
        }

        var choice = choices[0];
        if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
        {
            if (delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String && content.GetString() is { Length: > 0 } text)
            {
                TextDelta(output, text);
            }

            if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    CallDelta(output, call);
                }
            }
        }

        if (choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
        {
            _finish = finish.GetString();
        }
    }

    private void TextDelta(ArrayBufferWriter<byte> output, string text)
    {
        if (_messageIndex is null)
        {
            _messageIndex = _output.Count;
            var item = new ResponseOutputItem("msg_" + _id, null);
            _output.Add(item);
            Event(output, "response.output_item.added", w =>
            {
                w.WriteNumber("output_index", _messageIndex.Value);
                w.WritePropertyName("item");
                ResponseObject.Item(w, item, "in_progress");
            });
            Event(output, "response.content_part.added", w =>
            {
                PartPlace(w, item.Id, _messageIndex.Value);
                w.WritePropertyName("part");
                ResponseObject.Part(w, string.Empty);
            });
        }

        _text.Append(text);
        var index = _messageIndex.Value;
        Event(output, "response.output_text.delta", w =>
        {
            PartPlace(w, _output[index].Id, index);
            w.WriteString("delta", text);
        });
    }

    private void CallDelta(ArrayBufferWriter<byte> output, JsonElement call)
    {
        var toolIndex = call.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number ? i.GetInt32() : 0;
        var function = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
        if (!_callByToolIndex.TryGetValue(toolIndex, out var outputIndex))
        {
            var callId = call.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()! : $"call_{toolIndex}";
            var name = function.ValueKind == JsonValueKind.Object && function.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            outputIndex = _output.Count;
            _callByToolIndex[toolIndex] = outputIndex;
            _arguments[outputIndex] = new StringBuilder();
            var item = new ResponseOutputItem("fc_" + callId, null, callId, name, string.Empty);
            _output.Add(item);
            Event(output, "response.output_item.added", w =>
            {
                w.WriteNumber("output_index", outputIndex);
                w.WritePropertyName("item");
                ResponseObject.Item(w, item, "in_progress");
            });
        }

        if (function.ValueKind == JsonValueKind.Object && function.TryGetProperty("arguments", out var arguments) && arguments.ValueKind == JsonValueKind.String
            && arguments.GetString() is { Length: > 0 } piece)
        {
            _arguments[outputIndex].Append(piece);
            Event(output, "response.function_call_arguments.delta", w =>
            {
                w.WriteString("item_id", _output[outputIndex].Id);
                w.WriteNumber("output_index", outputIndex);
                w.WriteString("delta", piece);
            });
        }
    }

    /// <summary>The chat stream's end: every open item is closed, then the response completes with its usage.</summary>
    private void Close(ArrayBufferWriter<byte> output)
    {
        for (var index = 0; index < _output.Count; index++)
        {
            var item = _output[index];
            var at = index;
            if (item.IsFunctionCall)
            {
                var done = item with { Arguments = _arguments[index].ToString() };
                _output[index] = done;
                Event(output, "response.function_call_arguments.done", w =>
                {
                    w.WriteString("item_id", done.Id);
                    w.WriteNumber("output_index", at);
                    w.WriteString("arguments", done.Arguments);
                });
                Event(output, "response.output_item.done", w =>
                {
                    w.WriteNumber("output_index", at);
                    w.WritePropertyName("item");
                    ResponseObject.Item(w, done, "completed");
                });
            }
            else
            {
                var done = item with { Text = _text.ToString() };
                _output[index] = done;
                Event(output, "response.output_text.done", w =>
                {
                    PartPlace(w, done.Id, at);
                    w.WriteString("text", done.Text);
                });
                Event(output, "response.content_part.done", w =>
                {
                    PartPlace(w, done.Id, at);
                    w.WritePropertyName("part");
                    ResponseObject.Part(w, done.Text!);
                });
                Event(output, "response.output_item.done", w =>
                {
                    w.WriteNumber("output_index", at);
                    w.WritePropertyName("item");
                    ResponseObject.Item(w, done, "completed");
                });
            }
        }

        var status = ResponseObject.StatusOf(_finish);
        Event(output, status == "incomplete" ? "response.incomplete" : "response.completed", w => Response(w, status));
    }

    private void Response(Utf8JsonWriter writer, string status)
    {
        writer.WritePropertyName("response");
        ResponseObject.Write(writer, _id, _createdAt, _model, status, status == "in_progress" ? [] : _output, status == "in_progress" ? null : _usage);
    }

    private static void PartPlace(Utf8JsonWriter writer, string itemId, int outputIndex)
    {
        writer.WriteString("item_id", itemId);
        writer.WriteNumber("output_index", outputIndex);
        writer.WriteNumber("content_index", 0);
    }

    /// <summary>One Responses event: <c>event:</c> and <c>data:</c> lines, the data carrying its type and sequence number.</summary>
    private void Event(ArrayBufferWriter<byte> output, string type, Action<Utf8JsonWriter> fields)
    {
        output.Write("event: "u8);
        output.Write(Encoding.UTF8.GetBytes(type));
        output.Write("\ndata: "u8);
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WriteNumber("sequence_number", _sequence++);
            fields(writer);
            writer.WriteEndObject();
        }

        output.Write("\n\n"u8);
    }

    /// <summary>The <c>data:</c> payloads of the whole SSE events in <paramref name="events"/>.</summary>
    private static IEnumerable<string> DataOf(ReadOnlyMemory<byte> events)
    {
        foreach (var block in Encoding.UTF8.GetString(events.Span).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var data = string.Join('\n', block.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].TrimStart(' ')));
            if (data.Length > 0)
            {
                yield return data;
            }
        }
    }

    private static JsonDocument? TryParse(string data)
    {
        try
        {
            return JsonDocument.Parse(data);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
