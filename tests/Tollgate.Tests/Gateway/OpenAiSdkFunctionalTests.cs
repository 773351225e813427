using System.Text;
using OpenAI.Chat;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>The official OpenAI .NET SDK talks to the gateway, which talks to a fake OpenAI upstream on 127.0.0.1.</summary>
public sealed class OpenAiSdkFunctionalTests : GatewayWithFakeUpstream
{
    protected override string Models(Uri upstream) =>
        TestGateway.Model("reasoner", "o4-mini", upstream) + TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", upstream);

    [Fact]
    public async Task A_non_streamed_answer_reaches_the_sdk_unchanged_and_is_metered_exactly()
    {
        Upstream.Usage = new FakeUsage(PromptTokens: 1200, CompletionTokens: 300, CachedTokens: 1024, ReasoningTokens: 100);

        var completion = (await Gateway.OpenAiChat("reasoner").CompleteChatAsync([new UserChatMessage("Xin chào! Explain caching.")])).Value;

        Assert.Equal(Upstream.ReplyText, completion.Content[0].Text);
        Assert.Equal(1200, completion.Usage.InputTokenCount);
        Assert.Equal(1024, completion.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(100, completion.Usage.OutputTokenDetails.ReasoningTokenCount);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal(("reasoner", "o4-mini", "openai", RecordStatus.Ok, false), (record.Alias, record.UpstreamModel, record.Provider, record.Status, record.Stream));
        Assert.Equal(new Tollgate.Metering.Usage(1200, 1024, null, 300, 100), record.Usage);
        // o4-mini: $1.10 input, $0.275 cached input, $4.40 output (reasoning at the output rate) per million.
        Assert.Equal(176 * 1.10m / 1_000_000m, record.Cost.Input);
        Assert.Equal(1024 * 0.275m / 1_000_000m, record.Cost.CachedInput);
        Assert.Equal(200 * 4.40m / 1_000_000m, record.Cost.Output);
        Assert.Equal(100 * 4.40m / 1_000_000m, record.Cost.Reasoning);
        Assert.Equal(0.0017952m, record.Cost.Total);
        Assert.Equal("catalogue o4-mini from 2025-04-16", record.PriceSource);
    }

    [Fact]
    public async Task A_streamed_answer_reaches_the_sdk_unchanged_and_is_metered_exactly()
    {
        Upstream.Usage = new FakeUsage(PromptTokens: 5000, CompletionTokens: 250, CachedTokens: 4096);

        var text = new StringBuilder();
        await foreach (var update in Gateway.OpenAiChat("gpt-4o-mini").CompleteChatStreamingAsync([new UserChatMessage("Stream please")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        Assert.Equal(Upstream.ReplyText, text.ToString());
        var upstreamBody = Assert.Single(Upstream.Received).Json;
        Assert.True(upstreamBody.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal("gpt-4o-mini", upstreamBody.GetProperty("model").GetString());
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.True(record.Stream);
        Assert.False(record.Usage.Estimated);
        Assert.Equal(new Tollgate.Metering.Usage(5000, 4096, null, 250, 0), record.Usage);
        Assert.Equal((904 * 0.15m + 4096 * 0.075m + 250 * 0.6m) / 1_000_000m, record.Cost.Total);
        Assert.NotNull(record.TimeToFirstByteMs);
        Assert.True(record.TimeToFirstByteMs <= record.LatencyMs);
    }

    [Fact]
    public async Task TheUpstream_is_sent_its_own_key_never_the_clients()
    {
        await Gateway.OpenAiChat("gpt-4o-mini").CompleteChatAsync([new UserChatMessage("hi")]);

        var received = Assert.Single(Upstream.Received);
        Assert.Equal("Bearer sk-upstream-secret", received.Headers["Authorization"]);
        Assert.DoesNotContain(received.Headers.Values, v => v.Contains(TestGateway.MasterKey, StringComparison.Ordinal));
    }
}
