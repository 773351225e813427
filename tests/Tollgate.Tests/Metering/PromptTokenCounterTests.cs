using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Metering.Tokenization;
using Xunit;

namespace Tollgate.Tests.Metering;

public sealed class PromptTokenCounterTests
{
    private static JsonElement Body(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public void Text_messages_of_an_openai_model_are_counted_exactly_with_the_chat_overhead()
    {
        var o200k = BpeEncoding.O200kBase;
        var body = Body("""
            {"model":"x","messages":[
              {"role":"system","content":"You are a helpful assistant."},
              {"role":"user","name":"anh","content":"Xin chào, giá bao nhiêu?"},
              {"role":"user","content":[{"type":"text","text":"Part one."},{"type":"text","text":"Part two."}]}]}
            """);

        var count = PromptTokenCounter.Count(body, "gpt-4o-mini");

        var expected = 3 + o200k.Count("system") + o200k.Count("You are a helpful assistant.")
            + 3 + o200k.Count("user") + o200k.Count("anh") + 1 + o200k.Count("Xin chào, giá bao nhiêu?")
            + 3 + o200k.Count("user") + o200k.Count("Part one.") + o200k.Count("Part two.")
            + 3;
        Assert.Equal(new PromptTokenCount(expected, true, "o200k_base") { UpperBound = expected + PromptTokenCounter.RequestAllowance }, count);
    }

    [Theory]
    [InlineData("gpt-4o-2024-08-06", "o200k_base")]
    [InlineData("gpt-4.1-nano", "o200k_base")]
    [InlineData("gpt-5-mini", "o200k_base")]
    [InlineData("o3", "o200k_base")]
    [InlineData("openai/gpt-oss-120b", "o200k_base")]
    [InlineData("gpt-4-turbo", "cl100k_base")]
    [InlineData("gpt-3.5-turbo", "cl100k_base")]
    [InlineData("text-embedding-3-small", "cl100k_base")]
    public void Openai_families_use_their_encoding(string model, string encoding)
    {
        Assert.Equal(encoding, ModelEncodings.For(model)?.Name);
    }

    [Theory]
    [InlineData("claude-sonnet-4-5")]
    [InlineData("llama-3.1-8b-instant")]
    [InlineData("mock-gpt")]
    public void Other_families_are_approximated_with_o200k_and_marked_inexact(string model)
    {
        var count = PromptTokenCounter.Count(Body("""{"messages":[{"role":"user","content":"Xin chào, thế giới"}]}"""), model);

        Assert.False(count.Exact);
        Assert.Equal("o200k_base approximation", count.Method);
        Assert.Equal(3 + BpeEncoding.O200kBase.Count("user") + BpeEncoding.O200kBase.Count("Xin chào, thế giới") + 3, count.Tokens);
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}""")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}]}""")]
    [InlineData("""{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}]}""")]
    public void Images_tools_and_tool_calls_make_the_count_approximate(string json)
    {
        var count = PromptTokenCounter.Count(Body(json), "gpt-4o");

        Assert.False(count.Exact);
        Assert.True(count.Tokens > 3);
    }

    [Fact]
    public void Embedding_inputs_are_counted_without_chat_overhead()
    {
        var cl100k = BpeEncoding.Cl100kBase;

        var count = PromptTokenCounter.Count(Body("""{"input":["first text","second text"]}"""), "text-embedding-3-small");

        Assert.Equal(cl100k.Count("first text") + cl100k.Count("second text"), count.Tokens);
        Assert.True(count.Exact);
    }

    [Fact]
    public void The_bound_of_a_family_without_a_public_tokenizer_is_one_token_per_utf8_byte()
    {
        const string Text = "Xin chào, thế giới! Tiếng Việt có dấu.";

        var count = PromptTokenCounter.Count(Body($$"""{"messages":[{"role":"user","content":"{{Text}}"}]}"""), "claude-sonnet-4-5");

        Assert.True(count.UpperBound >= System.Text.Encoding.UTF8.GetByteCount(Text) + System.Text.Encoding.UTF8.GetByteCount("user"));
        Assert.True(count.UpperBound > count.Tokens);
        Assert.Null(count.Unbounded);
    }

    [Theory]
    [InlineData("gpt-4o-mini", ImageTokenBound.Gpt4oMini)]
    [InlineData("gpt-4.1-nano", ImageTokenBound.OpenAi)]
    [InlineData("claude-haiku-4-5", ImageTokenBound.Other)]
    public void An_image_is_bounded_by_its_familys_largest_image_whatever_its_bytes(string model, int bound)
    {
        var image = """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]}""";

        var count = PromptTokenCounter.Count(Body(image), model);

        Assert.True(count.UpperBound >= bound, $"{count.UpperBound}");
        Assert.True(count.UpperBound < bound + 200, $"{count.UpperBound}");
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f1"}}]}]}""", "'file' content part (messages[0].content[0])")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}""", "'input_audio'")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x/a.pdf"}}]}]}""", "'document'")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"web_search_options":{}}""", "web_search_options")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}""", "web_search_20250305")]
    public void Files_audio_and_tools_billed_per_use_cannot_be_bounded(string json, string named)
    {
        var count = PromptTokenCounter.Count(Body(json), "gpt-4o");

        Assert.Contains(named, count.Unbounded, StringComparison.Ordinal);
    }

    [Fact]
    public void A_response_schema_and_a_prediction_are_counted()
    {
        var schema = Body("""{"messages":[],"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object","properties":{"answer":{"type":"string"}}}}}}""");
        var prediction = Body("""{"messages":[],"prediction":{"type":"content","content":"The quick brown fox jumps over the lazy dog."}}""");

        Assert.True(PromptTokenCounter.Count(schema, "gpt-4o").Tokens > 15);
        Assert.Equal(BpeEncoding.O200kBase.Count("The quick brown fox jumps over the lazy dog."), PromptTokenCounter.PredictionBound(prediction, "gpt-4o"));
    }
}
