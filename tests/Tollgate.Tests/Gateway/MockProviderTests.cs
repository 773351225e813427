using System.Text;
using OpenAI.Chat;
using Tollgate.Configuration;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>The embedded defaults answer with no API key anywhere: the Quickstart path.</summary>
public sealed class MockProviderTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync("""
        models:
          - alias: mock-gpt
            provider: mock
            model: mock-gpt
            price_as: gpt-4o-mini
            mock: { reply_tokens: 25 }
        """);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task The_mock_answers_the_sdk_deterministically_with_realistic_usage()
    {
        var chat = _gateway.OpenAiChat("mock-gpt");

        var first = (await chat.CompleteChatAsync([new UserChatMessage("What does Tollgate do?")])).Value;
        var again = (await chat.CompleteChatAsync([new UserChatMessage("What does Tollgate do?")])).Value;

        Assert.Equal(first.Content[0].Text, again.Content[0].Text);
        Assert.Equal(25, first.Usage.OutputTokenCount);
        Assert.InRange(first.Usage.InputTokenCount, 5, 30);
        var records = await _gateway.RecordsAsync(2);
        Assert.All(records, r => Assert.Equal((first.Usage.InputTokenCount * 0.15m + 25 * 0.6m) / 1_000_000m, r.Cost.Total));
    }

    [Fact]
    public async Task The_mock_streams_and_honours_max_tokens()
    {
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in _gateway.OpenAiChat("mock-gpt").CompleteChatStreamingAsync(
            [new UserChatMessage("Stream a short answer")], new ChatCompletionOptions { MaxOutputTokenCount = 7 }))
        {
            text.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
            usage = update.Usage ?? usage;
            finish = update.FinishReason ?? finish;
        }

        Assert.Equal(7, text.ToString().Split(' ').Length);
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.Equal(7, usage?.OutputTokenCount);
        var record = Assert.Single(await _gateway.RecordsAsync(1));
        Assert.Equal(7, record.Usage.OutputTokens);
        Assert.True(record.Stream);
    }

    [Fact]
    public void The_embedded_defaults_are_the_mock_so_nothing_needs_a_key()
    {
        Assert.All(ConfigLoader.Defaults().Deployments, d => Assert.Equal("mock", d.Provider));
    }
}
