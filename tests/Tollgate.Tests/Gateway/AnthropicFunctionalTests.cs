using System.Net;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using Tollgate.FakeProviders;
using Ledger = Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>The official Anthropic .NET SDK talks to the gateway's /v1/messages, which talks to a fake Anthropic upstream.</summary>
public sealed class AnthropicFunctionalTests : IAsyncLifetime
{
    private const string LongSystemPrompt = "You are a meticulous assistant for a Vietnamese travel agency. Trả lời ngắn gọn.";

    private FakeAnthropicUpstream _upstream = null!;
    private FakeOpenAiUpstream _openAi = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeAnthropicUpstream.StartAsync();
        _openAi = await FakeOpenAiUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync($"""
            models:
              - alias: claude
                provider: anthropic
                model: claude-sonnet-4-5
                base_url: {_upstream.BaseUrl}
                api_key: sk-ant-upstream
            {TestGateway.Model("gpt-4o-mini", "gpt-4o-mini", _openAi.BaseUrl)}
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        await _openAi.DisposeAsync();
    }

    private AnthropicClient Client() => new() { ApiKey = TestGateway.MasterKey, BaseUrl = _gateway.BaseUrl.AbsoluteUri.TrimEnd('/'), MaxRetries = 0 };

    private static MessageCreateParams Request() => new()
    {
        Model = "claude",
        MaxTokens = 256,
        System = new List<TextBlockParam> { new(LongSystemPrompt) { CacheControl = new CacheControlEphemeral() } },
        Messages = [new UserMessageParam("Gợi ý một món ăn ở Hà Nội.")],
    };

    [Fact]
    public async Task A_message_with_a_cached_system_prompt_is_passed_through_and_priced_exactly()
    {
        _upstream.Usage = new FakeAnthropicUsage(InputTokens: 30, OutputTokens: 120, CacheCreationTokens: 7200, CacheReadTokens: 0);

        var message = await Client().Messages.Create(Request());

        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.Equal(_upstream.ReplyText, text!.Text);
        var sent = Assert.Single(_upstream.Received);
        Assert.Equal("ephemeral", sent.Json.GetProperty("system")[0].GetProperty("cache_control").GetProperty("type").GetString());
        Assert.Equal("claude-sonnet-4-5", sent.Json.GetProperty("model").GetString());
        Assert.Equal("sk-ant-upstream", sent.Headers["x-api-key"]);
        Assert.False(string.IsNullOrEmpty(sent.Headers["anthropic-version"]));
        var record = Assert.Single(await _gateway.RecordsAsync(1));
        Assert.Equal(("messages", "anthropic", RecordStatus()), (record.Endpoint, record.Provider, record.Status));
        Assert.Equal(new Tollgate.Metering.Usage(7230, 0, 7200, 120, null) { CacheWrite1hTokens = 0 }, record.Usage);
        // claude-sonnet-4-5: $3 input, $3.75 cache write, $0.30 cache read, $15 output per million.
        Assert.Equal((30 * 3m + 7200 * 3.75m + 0 * 0.3m + 120 * 15m) / 1_000_000m, record.Cost.Total);
    }

    [Fact]
    public async Task A_streamed_message_with_a_cache_hit_reaches_the_sdk_and_is_priced_exactly()
    {
        _upstream.Usage = new FakeAnthropicUsage(InputTokens: 30, OutputTokens: 95, CacheCreationTokens: 0, CacheReadTokens: 7200);

        var text = new StringBuilder();
        await foreach (var streamEvent in Client().Messages.CreateStreaming(Request()))
        {
            if (streamEvent.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickText(out var piece))
            {
                text.Append(piece!.Text);
            }
        }

        Assert.Equal(_upstream.ReplyText, text.ToString());
        var record = Assert.Single(await _gateway.RecordsAsync(1));
        Assert.True(record.Stream);
        Assert.Equal(new Tollgate.Metering.Usage(7230, 7200, 0, 95, null) { CacheWrite1hTokens = 0 }, record.Usage);
        Assert.Equal((30 * 3m + 7200 * 0.3m + 95 * 15m) / 1_000_000m, record.Cost.Total);
    }

    [Fact]
    public async Task The_clients_anthropic_headers_are_passed_on_and_its_key_is_not()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent("""{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("anthropic-beta", "extended-cache-ttl-2025-04-11");

        var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(_upstream.Received);
        Assert.Equal(("2023-06-01", "extended-cache-ttl-2025-04-11"), (sent.Headers["anthropic-version"], sent.Headers["anthropic-beta"]));
        Assert.DoesNotContain(sent.Headers.Values, v => v.Contains(TestGateway.MasterKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Errors_on_messages_come_in_anthropics_shape_and_a_wrong_endpoint_is_named()
    {
        var unknown = await _gateway.Client.PostAsync("/v1/messages", new StringContent("""{"model":"nope","max_tokens":1,"messages":[]}""", Encoding.UTF8, "application/json"));
        var openAiAliasOnMessages = await _gateway.Client.PostAsync("/v1/messages", new StringContent("""{"model":"gpt-4o-mini","max_tokens":1,"messages":[]}""", Encoding.UTF8, "application/json"));
        var claudeAsEmbeddings = await _gateway.Client.PostAsync("/v1/embeddings", new StringContent("""{"model":"claude","input":"x"}""", Encoding.UTF8, "application/json"));

        var error = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(("error", "not_found_error"), (error.GetProperty("type").GetString(), error.GetProperty("error").GetProperty("type").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, openAiAliasOnMessages.StatusCode);
        Assert.Contains("/v1/chat/completions", await openAiAliasOnMessages.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, claudeAsEmbeddings.StatusCode);
        Assert.Equal("unsupported_endpoint", JsonDocument.Parse(await claudeAsEmbeddings.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty(_upstream.Received);
        Assert.Empty(_openAi.Received);
    }

    [Fact]
    public async Task A_providers_error_reaches_the_sdk_and_is_recorded()
    {
        _upstream.FailWithStatus = 529;

        await Assert.ThrowsAnyAsync<Exception>(() => Client().Messages.Create(Request()));

        var record = Assert.Single(await _gateway.RecordsAsync(1));
        Assert.Equal((Tollgate.Ledger.RecordStatus.UpstreamError, 529, 0m), (record.Status, record.HttpStatus, record.Cost.Total!.Value));
    }

    private static string RecordStatus() => Tollgate.Ledger.RecordStatus.Ok;
}
