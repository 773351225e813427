using System.Text;
using Tollgate.Providers.OpenAiCompatible;
using Xunit;

namespace Tollgate.Tests.Providers;

public sealed class OpenAiChunkInspectorTests
{
    private static OpenAiChunkFacts Inspect(string data) => OpenAiChunkInspector.Inspect(Encoding.UTF8.GetBytes(data));

    [Fact]
    public void A_content_chunk_with_null_usage_has_choices_and_no_usage()
    {
        var facts = Inspect("""{"id":"c","choices":[{"index":0,"delta":{"content":"Xin chào"},"finish_reason":null}],"usage":null}""");

        Assert.True(facts.HasChoices);
        Assert.Null(facts.Usage);
        Assert.False(facts.IsUsageOnly);
        Assert.Equal(Encoding.UTF8.GetByteCount("Xin chào"), facts.ContentCharacters);
    }

    [Theory]
    [InlineData("""{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"Hi","annotations":[[1,[2]],{"a":[]}]},"logprobs":null}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}""")]
    [InlineData("""{"choices":[{"message":{"tool_calls":[{"function":{"arguments":"{\"q\":[1,2]}"}}]}},{"message":{"content":"second"}}],"usage":{"prompt_tokens":9,"completion_tokens":2},"system_fingerprint":"fp"}""")]
    [InlineData("""{"choices":[7,"x",null,[]],"usage":{"prompt_tokens":1,"completion_tokens":1}}""")]
    [InlineData("""{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}""")]
    public void A_whole_completion_read_without_measuring_its_text_says_the_same_but_the_length(string json)
    {
        var measured = Inspect(json);
        var unmeasured = OpenAiChunkInspector.Inspect(Encoding.UTF8.GetBytes(json), measureText: false);

        Assert.Equal(measured with { ContentCharacters = 0 }, unmeasured);
        Assert.NotNull(unmeasured.Usage);
    }

    [Fact]
    public void The_include_usage_chunk_is_usage_only()
    {
        var facts = Inspect("""{"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}""");

        Assert.True(facts.IsUsageOnly);
        Assert.Equal(3, facts.Usage!.InputTokens);
        Assert.Equal(4, facts.Usage.OutputTokens);
    }

    [Fact]
    public void Usage_on_a_chunk_that_also_has_choices_is_read_but_the_chunk_is_not_usage_only()
    {
        var facts = Inspect("""{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4}}""");

        Assert.False(facts.IsUsageOnly);
        Assert.Equal(4, facts.Usage!.OutputTokens);
    }

    [Fact]
    public void Groq_usage_in_x_groq_is_read()
    {
        var facts = Inspect("""{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":11,"completion_tokens":22,"total_tokens":33}}}""");

        Assert.Equal(11, facts.Usage!.InputTokens);
        Assert.Equal(22, facts.Usage.OutputTokens);
    }

    [Fact]
    public void Done_marker_and_broken_json_are_recognised_without_throwing()
    {
        Assert.True(Inspect("[DONE]").IsDone);
        var broken = Inspect("""{"choices":[{"delta":{"content":"ab""");
        Assert.False(broken.IsDone);
        Assert.Null(broken.Usage);
    }

    [Fact]
    public void Tool_call_arguments_and_reasoning_text_count_as_generated_text()
    {
        var facts = Inspect("""{"choices":[{"index":0,"delta":{"reasoning_content":"abcd","tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}}]}""");

        Assert.Equal(4 + Encoding.UTF8.GetByteCount("{\\\"a\\\":1}"), facts.ContentCharacters);
    }
}
