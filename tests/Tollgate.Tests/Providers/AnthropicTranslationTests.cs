using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Providers;
using Tollgate.Providers.Anthropic;
using Tollgate.Providers.Streaming;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Providers;

public sealed class AnthropicTranslationTests
{
    private static JsonElement Translate(string openAiBody, out string? error)
    {
        var buffer = new ArrayBufferWriter<byte>();
        error = AnthropicRequestTranslator.Translate(JsonDocument.Parse(openAiBody).RootElement, "claude-sonnet-4-5", 4096, buffer);
        return error is null ? JsonDocument.Parse(buffer.WrittenMemory).RootElement : default;
    }

    [Fact]
    public void A_multi_turn_chat_with_tools_becomes_an_anthropic_messages_request()
    {
        var request = Translate("""
            {"model":"claude","temperature":0.2,"stop":"END","user":"u-7","max_tokens":300,
             "messages":[
               {"role":"system","content":"Be brief."},
               {"role":"developer","content":"Answer in Vietnamese."},
               {"role":"user","content":"Thời tiết Hà Nội?"},
               {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Hanoi\"}"}}]},
               {"role":"tool","tool_call_id":"call_1","content":"28°C, nắng"},
               {"role":"user","content":[{"type":"text","text":"Và ảnh này?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0K"}}]}],
             "tools":[{"type":"function","function":{"name":"weather","description":"Weather by city","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
             "tool_choice":"required","response_format":{"type":"text"},"seed":1}
            """, out var error);

        Assert.Null(error);
        Assert.Equal("claude-sonnet-4-5", request.GetProperty("model").GetString());
        Assert.Equal(300, request.GetProperty("max_tokens").GetInt32());
        Assert.Equal("Be brief.\n\nAnswer in Vietnamese.", request.GetProperty("system").GetString());
        var messages = request.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => m.GetProperty("role").GetString()));
        var toolUse = messages[1].GetProperty("content")[0];
        Assert.Equal(("tool_use", "call_1", "weather", "Hanoi"), (toolUse.GetProperty("type").GetString(), toolUse.GetProperty("id").GetString(), toolUse.GetProperty("name").GetString(), toolUse.GetProperty("input").GetProperty("city").GetString()));
        var lastTurn = messages[2].GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(["tool_result", "text", "image"], lastTurn.Select(b => b.GetProperty("type").GetString()));
        Assert.Equal("28°C, nắng", lastTurn[0].GetProperty("content").GetString());
        Assert.Equal(("base64", "image/png", "iVBORw0K"), (lastTurn[2].GetProperty("source").GetProperty("type").GetString(), lastTurn[2].GetProperty("source").GetProperty("media_type").GetString(), lastTurn[2].GetProperty("source").GetProperty("data").GetString()));
        Assert.Equal("Weather by city", request.GetProperty("tools")[0].GetProperty("description").GetString());
        Assert.Equal("object", request.GetProperty("tools")[0].GetProperty("input_schema").GetProperty("type").GetString());
        Assert.Equal("any", request.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.Equal("END", request.GetProperty("stop_sequences")[0].GetString());
        Assert.Equal("u-7", request.GetProperty("metadata").GetProperty("user_id").GetString());
        Assert.False(request.TryGetProperty("response_format", out _));
        Assert.False(request.TryGetProperty("seed", out _));
    }

    [Fact]
    public void Max_tokens_defaults_and_what_anthropic_cannot_do_is_refused()
    {
        Assert.Equal(4096, Translate("""{"messages":[{"role":"user","content":"hi"}]}""", out _).GetProperty("max_tokens").GetInt32());
        Translate("""{"n":2,"messages":[{"role":"user","content":"hi"}]}""", out var tooMany);
        Translate("""{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}""", out var audio);
        Assert.Contains("'n'", tooMany, StringComparison.Ordinal);
        Assert.Contains("input_audio", audio, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_with_text_and_a_tool_call_becomes_a_chat_completion_with_usage_in_openai_terms()
    {
        var completion = JsonDocument.Parse(AnthropicResponseTranslator.Completion(JsonDocument.Parse("""
            {"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",
             "content":[{"type":"text","text":"Let me check. "},{"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Hanoi"}}],
             "stop_reason":"tool_use","usage":{"input_tokens":10,"cache_read_input_tokens":90,"cache_creation_input_tokens":0,"output_tokens":20}}
            """).RootElement, 1764000000)).RootElement;

        Assert.Equal(("chatcmpl-msg_1", "chat.completion"), (completion.GetProperty("id").GetString(), completion.GetProperty("object").GetString()));
        var choice = completion.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("Let me check. ", choice.GetProperty("message").GetProperty("content").GetString());
        var call = choice.GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal(("toolu_1", "weather", "{\"city\":\"Hanoi\"}"), (call.GetProperty("id").GetString(), call.GetProperty("function").GetProperty("name").GetString(), call.GetProperty("function").GetProperty("arguments").GetString()));
        var usage = completion.GetProperty("usage");
        Assert.Equal((100, 20, 90), (usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32()));
    }

    [Fact]
    public void An_anthropic_error_becomes_an_openai_error()
    {
        var error = JsonDocument.Parse(AnthropicResponseTranslator.Error("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""u8.ToArray())).RootElement;

        Assert.Equal(("Overloaded", "overloaded_error"), (error.GetProperty("error").GetProperty("message").GetString(), error.GetProperty("error").GetProperty("type").GetString()));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_stream_becomes_openai_chunks_at_every_split_point(bool clientWantsUsage)
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(AnthropicStreamTests.Events));
        for (var split = 0; split < bytes.Length; split++)
        {
            var pipe = new Pipe();
            await pipe.Writer.WriteAsync(split == 0 ? bytes : bytes[..split]);
            if (split > 0)
            {
                await pipe.Writer.WriteAsync(bytes[split..]);
            }

            await pipe.Writer.CompleteAsync();
            var sink = new RecordingSink();
            var outcome = await SseRelay.RelayAsync(pipe.Reader, new AnthropicChatStreamTranslator(clientWantsUsage, 1764000000), UpstreamHeaders.None, sink, CancellationToken.None, CancellationToken.None);

            var chunks = sink.Events.Select(Encoding.UTF8.GetString).SelectMany(e => e.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)).ToList();
            Assert.Equal("data: [DONE]", chunks[^1]);
            var json = chunks.Take(chunks.Count - 1).Select(c => JsonDocument.Parse(c["data: ".Length..]).RootElement).ToList();
            Assert.All(json, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
            var text = string.Concat(json.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
                .Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
                .Select(d => d.TryGetProperty("content", out var content) ? content.GetString() : string.Empty));
            Assert.Equal("Xin chào! 👋 Tôi có thể giúp gì?", text);
            Assert.Contains(json, c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("finish_reason").GetString() == "stop");
            Assert.Equal(clientWantsUsage, json.Any(c => c.TryGetProperty("usage", out _)));
            Assert.Equal(new Usage(7225, 0, 7200, 15, null) { CacheWrite1hTokens = 0 }, outcome.Usage);
        }
    }
}
