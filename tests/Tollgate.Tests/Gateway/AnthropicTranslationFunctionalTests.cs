using System.Text;
using OpenAI.Chat;
using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>The official OpenAI SDK asks for a Claude alias; the gateway translates to Anthropic's Messages API and back.</summary>
public sealed class AnthropicTranslationFunctionalTests : IAsyncLifetime
{
    private FakeAnthropicUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeAnthropicUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync($"""
            models:
              - alias: claude
                provider: anthropic
                model: claude-haiku-4-5
                base_url: {_upstream.BaseUrl}
                api_key: sk-ant-upstream
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task The_openai_sdk_gets_a_chat_completion_from_a_claude_alias_priced_exactly()
    {
        _upstream.Usage = new FakeAnthropicUsage(InputTokens: 40, OutputTokens: 60, CacheReadTokens: 2000);

        var completion = (await _gateway.OpenAiChat("claude").CompleteChatAsync(
            [new SystemChatMessage("Trả lời ngắn."), new UserChatMessage("Chào bạn!")], new ChatCompletionOptions { MaxOutputTokenCount = 200 })).Value;

        Assert.Equal(_upstream.ReplyText, completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(2040, completion.Usage.InputTokenCount);
        Assert.Equal(2000, completion.Usage.InputTokenDetails.CachedTokenCount);
        var sent = Assert.Single(_upstream.Received).Json;
        Assert.Equal(("claude-haiku-4-5", "Trả lời ngắn.", 200), (sent.GetProperty("model").GetString(), sent.GetProperty("system").GetString(), sent.GetProperty("max_tokens").GetInt32()));
        var record = Assert.Single(await _gateway.RecordsAsync(1));
        Assert.Equal(("chat.completions", "anthropic"), (record.Endpoint, record.Provider));
        // claude-haiku-4-5: $1 input, $0.10 cache read, $5 output per million.
        Assert.Equal((40 * 1m + 2000 * 0.1m + 60 * 5m) / 1_000_000m, record.Cost.Total);
    }

    [Fact]
    public async Task The_openai_sdk_streams_from_a_claude_alias_and_the_stream_is_metered_exactly()
    {
        _upstream.Usage = new FakeAnthropicUsage(InputTokens: 12, OutputTokens: 33);

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in _gateway.OpenAiChat("claude").CompleteChatStreamingAsync([new UserChatMessage("Kể chuyện ngắn.")]))
        {
            text.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
            usage = update.Usage ?? usage;
        }

        Assert.Equal(_upstream.ReplyText, text.ToString());
        Assert.True(Assert.Single(_upstream.Received).Json.GetProperty("stream").GetBoolean());
        var record = Assert.Single(await _gateway.RecordsAsync(1));
        Assert.True(record.Stream);
        Assert.Equal(new Tollgate.Metering.Usage(12, 0, 0, 33, null) { CacheWrite1hTokens = 0 }, record.Usage);
        Assert.Equal((12 * 1m + 33 * 5m) / 1_000_000m, record.Cost.Total);
        // The OpenAI SDK asks for stream usage, so the translated stream ends with a usage chunk in OpenAI's terms.
        Assert.Equal((12, 33), (usage!.InputTokenCount, usage.OutputTokenCount));
    }
}
