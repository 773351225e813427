using System.Buffers;
using System.Text.Json;
using Tollgate.Metering;

namespace Tollgate.Providers.ResponsesOverChat;

/// <summary>A whole chat completion (as a translating adapter gives it) as a Responses API <c>response</c>.</summary>
public static class ResponsesChatAnswer
{
    /// <summary>The response object, or the body unchanged when it is not a chat completion (an error body).</summary>
    public static byte[] FromChat(ReadOnlyMemory<byte> chatCompletion, Usage usage)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(chatCompletion);
        }
        catch (JsonException)
        {
            return chatCompletion.ToArray();
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            {
                return chatCompletion.ToArray();
            }

            var id = root.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : "chat";
            var choice = choices[0];
            var message = choice.TryGetProperty("message", out var m) ? m : default;
            var items = new List<ResponseOutputItem>();
            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String && content.GetString()!.Length > 0)
            {
                items.Add(new ResponseOutputItem("msg_" + id, content.GetString()));
            }

            if (message.ValueKind == JsonValueKind.Object && message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in calls.EnumerateArray())
                {
                    var function = call.GetProperty("function");
                    var callId = call.GetProperty("id").GetString()!;
                    items.Add(new ResponseOutputItem("fc_" + callId, null, callId, function.GetProperty("name").GetString(), function.GetProperty("arguments").GetString()));
                }
            }

            var finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            var output = new ArrayBufferWriter<byte>(1024);
            using (var writer = new Utf8JsonWriter(output))
            {
                var createdAt = root.TryGetProperty("created", out var created) && created.ValueKind == JsonValueKind.Number && created.TryGetInt64(out var at) ? at : 0;
                ResponseObject.Write(writer, "resp_" + id, createdAt, root.TryGetProperty("model", out var model) ? model.GetString() : null, ResponseObject.StatusOf(finish), items, usage);
            }

            return output.WrittenSpan.ToArray();
        }
    }
}
