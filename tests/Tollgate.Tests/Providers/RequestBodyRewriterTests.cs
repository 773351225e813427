using System.Buffers;
using System.Text;
using System.Text.Json;
using Tollgate.Providers;
using Xunit;

namespace Tollgate.Tests.Providers;

public sealed class RequestBodyRewriterTests
{
    private static JsonElement Write(string body, bool stream)
    {
        var buffer = new ArrayBufferWriter<byte>();
        RequestBodyRewriter.Write(JsonDocument.Parse(body).RootElement, "gpt-4o-mini-2024-07-18", stream, buffer);
        return JsonDocument.Parse(buffer.WrittenMemory).RootElement;
    }

    [Fact]
    public void Every_field_but_model_passes_through_unchanged()
    {
        const string body = """
            {"model":"my-alias","messages":[{"role":"user","content":"Xin chào 👋"}],"temperature":0.70,"seed":42,"n":2,
             "logprobs":true,"top_logprobs":3,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object"}}},
             "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{}}}}],
             "tool_choice":"auto","x_vendor_extension":{"a":[1,2.50,null]}}
            """;
        var original = JsonDocument.Parse(body).RootElement;

        var written = Write(body, stream: false);

        Assert.Equal("gpt-4o-mini-2024-07-18", written.GetProperty("model").GetString());
        foreach (var property in original.EnumerateObject().Where(p => p.Name != "model"))
        {
            Assert.Equal(property.Value.GetRawText(), written.GetProperty(property.Name).GetRawText());
        }

        Assert.Equal(original.EnumerateObject().Count(), written.EnumerateObject().Count());
        Assert.False(written.TryGetProperty("stream_options", out _));
    }

    private static string WriteText(string body, bool stream, string model = "gpt-4o-mini-2024-07-18")
    {
        var buffer = new ArrayBufferWriter<byte>();
        RequestBodyRewriter.Write(JsonDocument.Parse(body).RootElement, model, stream, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [Theory]
    [InlineData("""{ "model" : "alias" ,   "messages":[{"role":"user","content":"caf\u00e9 \"q\""}], "seed" : 1 }""", """{ "model" : "gpt-4o-mini-2024-07-18" ,   "messages":[{"role":"user","content":"caf\u00e9 \"q\""}], "seed" : 1 }""")]
    [InlineData("""{"messages":[],"mod\u0065l":"alias"}""", """{"messages":[],"mod\u0065l":"gpt-4o-mini-2024-07-18"}""")]
    [InlineData("""{"model":"a","messages":[],"model":"b"}""", """{"model":"gpt-4o-mini-2024-07-18","messages":[],"model":"gpt-4o-mini-2024-07-18"}""")]
    [InlineData("""{"messages":[] }""", """{"messages":[] ,"model":"gpt-4o-mini-2024-07-18"}""")]
    [InlineData("""{}""", """{"model":"gpt-4o-mini-2024-07-18"}""")]
    public void The_clients_bytes_pass_through_exactly_but_the_models_value(string body, string expected)
    {
        Assert.Equal(expected, WriteText(body, stream: false));
    }

    [Fact]
    public void Stream_options_are_added_or_rewritten_in_place_and_the_rest_is_untouched()
    {
        Assert.Equal(
            """{"model":"m", "stream":true ,"stream_options":{"include_usage":true}}""",
            WriteText("""{"model":"a", "stream":true }""", stream: true, model: "m"));
        Assert.Equal(
            """{"stream_options": {"include_obfuscation":false,"include_usage":true} ,"model":"m"}""",
            WriteText("""{"stream_options": {"include_usage":false, "include_obfuscation":false} ,"model":"a"}""", stream: true, model: "m"));
    }

    [Theory]
    [InlineData("vendor/\"odd\" model", "\"vendor/\\\"odd\\\" model\"")]
    [InlineData("mô-hình", "\"mô-hình\"")]
    public void A_model_name_that_needs_escaping_is_escaped(string model, string json)
    {
        Assert.Equal("{\"model\":" + json + "}", WriteText("""{"model":"a"}""", stream: false, model));
        Assert.Equal(model, JsonDocument.Parse(WriteText("""{"model":"a"}""", stream: false, model)).RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public void A_stream_always_asks_for_usage_and_keeps_the_clients_other_stream_options()
    {
        var added = Write("""{"model":"a","stream":true,"messages":[]}""", stream: true);
        var merged = Write("""{"model":"a","stream":true,"messages":[],"stream_options":{"include_usage":false,"include_obfuscation":false}}""", stream: true);

        Assert.True(added.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.True(merged.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.False(merged.GetProperty("stream_options").GetProperty("include_obfuscation").GetBoolean());
        Assert.Single(merged.EnumerateObject(), p => p.Name == "stream_options");
    }

    [Theory]
    [InlineData("""{"stream_options":{"include_usage":true}}""", true)]
    [InlineData("""{"stream_options":{"include_usage":false}}""", false)]
    [InlineData("""{"stream_options":null}""", false)]
    [InlineData("""{}""", false)]
    public void The_client_wants_the_usage_chunk_only_when_it_said_so(string body, bool wants)
    {
        Assert.Equal(wants, RequestBodyRewriter.ClientWantsStreamUsage(JsonDocument.Parse(body).RootElement));
    }

    [Fact]
    public void Non_ascii_text_survives_the_rewrite_byte_for_byte_after_unescaping()
    {
        var written = Write("""{"model":"a","messages":[{"role":"user","content":"Tiếng Việt có dấu: ả ạ ằ ẵ — 😀"}]}""", stream: false);

        Assert.Equal("Tiếng Việt có dấu: ả ạ ằ ẵ — 😀", written.GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.True(Encoding.UTF8.GetByteCount(written.GetRawText()) > 0);
    }
}
