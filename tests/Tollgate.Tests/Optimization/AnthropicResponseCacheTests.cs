using System.Text;
using Anthropic;
using Anthropic.Models.Messages;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Optimization.ResponseCaching;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Optimization;

/// <summary>The exact cache on Anthropic's Messages API, through the official Anthropic SDK: whole and streamed repeats.</summary>
public sealed class AnthropicResponseCacheTests : IAsyncLifetime
{
    private FakeAnthropicUpstream _upstream = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeAnthropicUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync($"""
            cache:
              exact: {"{"} ttl_seconds: 600 {"}"}
            models:
              - alias: claude
                provider: anthropic
                model: claude-sonnet-4-5
                base_url: {_upstream.BaseUrl}
                api_key: sk-ant-upstream
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private AnthropicClient Client() => new() { ApiKey = TestGateway.MasterKey, BaseUrl = _gateway.BaseUrl.AbsoluteUri.TrimEnd('/'), MaxRetries = 0 };

    private static MessageCreateParams Request(string question) => new()
    {
        Model = "claude",
        MaxTokens = 256,
        Messages = [new UserMessageParam(question)],
    };

    [Fact]
    public async Task A_repeated_message_is_answered_from_the_cache_and_saves_its_exact_cost()
    {
        _upstream.Usage = new FakeAnthropicUsage(InputTokens: 1200, OutputTokens: 340);

        var first = await Client().Messages.Create(Request("Chính sách đổi trả thế nào?"));
        var second = await Client().Messages.Create(Request("Chính sách đổi trả thế nào?"));

        Assert.Equal(first.ID, second.ID);
        Assert.Single(_upstream.Received);
        var records = await _gateway.RecordsAsync(2);
        var paid = records.Single(r => r.ResponseCacheHit is null);
        var hit = records.Single(r => r.ResponseCacheHit == ResponseCacheHit.Exact);
        Assert.Equal("messages", hit.Endpoint);
        Assert.Equal((1200 * 3m + 340 * 15m) / 1_000_000m, paid.Cost.Total);
        Assert.Equal(paid.Cost.Total, hit.ResponseCacheSavedUsd);
    }

    [Fact]
    public async Task A_streamed_repeat_is_a_stream_the_sdk_reads_to_the_same_text()
    {
        async Task<string> ReadAsync()
        {
            var text = new StringBuilder();
            await foreach (var streamEvent in Client().Messages.CreateStreaming(Request("Mấy giờ cửa hàng mở cửa?")))
            {
                if (streamEvent.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickText(out var piece))
                {
                    text.Append(piece!.Text);
                }
            }

            return text.ToString();
        }

        var first = await ReadAsync();
        var second = await ReadAsync();

        Assert.Equal(_upstream.ReplyText, first);
        Assert.Equal(first, second);
        Assert.Single(_upstream.Received);
        var hit = (await _gateway.RecordsAsync(2)).Single(r => r.ResponseCacheHit is not null);
        Assert.True(hit.Stream);
    }
}
