using System.Text;
using OpenAI.Chat;
using Tollgate.FakeProviders;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>The official OpenAI SDK asks for a Gemini alias; the gateway translates to generateContent and back.</summary>
public sealed class GeminiFunctionalTests : IAsyncLifetime
{
    private FakeGeminiUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeGeminiUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync($"""
            models:
              - alias: gemini
                provider: gemini
                model: gemini-2.5-flash
                base_url: {_upstream.BaseUrl}
                api_key: goog-key
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task A_completion_from_a_gemini_alias_bills_thoughts_as_output()
    {
        _upstream.Usage = new FakeGeminiUsage(PromptTokens: 100, CandidatesTokens: 20, ThoughtsTokens: 80);

        var completion = (await _gateway.OpenAiChat("gemini").CompleteChatAsync([new UserChatMessage("Xin chào")])).Value;

        Assert.Equal(_upstream.ReplyText, completion.Content[0].Text);
        Assert.Equal((100, 100, 80), (completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount, completion.Usage.OutputTokenDetails.ReasoningTokenCount));
        var sent = Assert.Single(_upstream.Received);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:generateContent", sent.Path);
        Assert.Equal("goog-key", sent.Headers["x-goog-api-key"]);
        var record = Assert.Single(await _gateway.RecordsAsync(1));
        Assert.Equal(new Tollgate.Metering.Usage(100, null, null, 100, 80), record.Usage);
        Assert.Equal((100 * 0.3m + 20 * 2.5m + 80 * 2.5m) / 1_000_000m, record.Cost.Total);
    }

    [Fact]
    public async Task A_stream_from_a_gemini_alias_reaches_the_sdk_and_is_metered()
    {
        var text = new StringBuilder();
        await foreach (var update in _gateway.OpenAiChat("gemini").CompleteChatStreamingAsync([new UserChatMessage("Xin chào")]))
        {
            text.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
        }

        Assert.Equal(_upstream.ReplyText, text.ToString());
        Assert.Equal("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", Assert.Single(_upstream.Received).Path);
        var record = Assert.Single(await _gateway.RecordsAsync(1));
        Assert.Equal((Tollgate.Ledger.RecordStatus.Ok, false), (record.Status, record.Usage.Estimated));
        Assert.Equal(new Tollgate.Metering.Usage(20, null, null, 15, 5), record.Usage);
    }
}
