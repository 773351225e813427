using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Providers;
using Tollgate.Providers.Anthropic;
using Tollgate.Providers.Gemini;
using Tollgate.Providers.OpenAiCompatible;
using Tollgate.Providers.Streaming;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Providers;

/// <summary>
/// Every provider's golden answers, whole and streamed, with the usage they must map to and the exact cost at the
/// built-in price of the named model. Each stream is also split at every byte position.
/// </summary>
public sealed class GoldenFixtureTests
{
    private static readonly DateOnly Day = new(2026, 11, 24);

    /// <summary>A fixture: provider format, model priced, body (JSON or SSE), expected usage, expected cost in USD.</summary>
    public sealed record Fixture(string Name, string Format, string Model, string Body, Usage Usage, decimal Cost)
    {
        public override string ToString() => Name;
    }

    public static TheoryData<Fixture> Fixtures() =>
    [
        new Fixture("openai reasoning json", "openai", "o4-mini",
            """{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"42"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":1024},"completion_tokens_details":{"reasoning_tokens":100}}}""",
            new Usage(1200, 1024, null, 300, 100), (176 * 1.1m + 1024 * 0.275m + 200 * 4.4m + 100 * 4.4m) / 1_000_000m),
        new Fixture("openai stream, usage only at the end", "openai", "gpt-4o-mini",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Chào\"}}],\"usage\":null}\n\n"
            + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" bạn 👋\"},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
            + "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5000,\"completion_tokens\":250,\"total_tokens\":5250,\"prompt_tokens_details\":{\"cached_tokens\":4096},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n"
            + "data: [DONE]\n\n",
            new Usage(5000, 4096, null, 250, 0), (904 * 0.15m + 4096 * 0.075m + 250 * 0.6m) / 1_000_000m),
        new Fixture("deepseek cache hits json", "openai", "deepseek-chat",
            """{"id":"d1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":20,"total_tokens":1020,"prompt_cache_hit_tokens":640,"prompt_cache_miss_tokens":360}}""",
            new Usage(1000, 640, null, 20, null), (360 * 0.28m + 640 * 0.028m + 20 * 0.42m) / 1_000_000m),
        new Fixture("anthropic cache write json", "anthropic", "claude-sonnet-4-5",
            """{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"thinking","thinking":"Let me think.","signature":"s"},{"type":"text","text":"Xin chào"}],"stop_reason":"end_turn","usage":{"input_tokens":30,"cache_creation_input_tokens":7200,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":7200,"ephemeral_1h_input_tokens":0},"output_tokens":400}}""",
            new Usage(7230, 0, 7200, 400, null) { CacheWrite1hTokens = 0 }, (30 * 3m + 7200 * 3.75m + 400 * 15m) / 1_000_000m),
        new Fixture("anthropic stream, cache read and 1-hour write", "anthropic", "claude-haiku-4-5",
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":500,\"cache_read_input_tokens\":7200,\"cache_creation\":{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":500},\"output_tokens\":1}}}\n\n"
            + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
            + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Hmm…\"}}\n\n"
            + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Được rồi 😀\"}}\n\n"
            + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":60}}\n\n"
            + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
            new Usage(7712, 7200, 500, 60, null) { CacheWrite1hTokens = 500 }, (12 * 1m + 7200 * 0.1m + 500 * 2m + 60 * 5m) / 1_000_000m),
        new Fixture("gemini thoughts json", "gemini", "gemini-2.5-pro",
            """{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":900,"candidatesTokenCount":50,"thoughtsTokenCount":450,"cachedContentTokenCount":512,"totalTokenCount":1400},"modelVersion":"gemini-2.5-pro"}""",
            new Usage(900, 512, null, 500, 450), (388 * 1.25m + 512 * 0.125m + 50 * 10m + 450 * 10m) / 1_000_000m),
        new Fixture("gemini stream, cumulative usage", "gemini", "gemini-2.5-flash",
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Xin \"}],\"role\":\"model\"},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":300,\"totalTokenCount\":300}}\r\n\r\n"
            + "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"chào ✨\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":300,\"candidatesTokenCount\":25,\"thoughtsTokenCount\":75,\"totalTokenCount\":400}}\r\n\r\n",
            new Usage(300, null, null, 100, 75), (300 * 0.3m + 25 * 2.5m + 75 * 2.5m) / 1_000_000m),
    ];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Every_fixture_maps_to_its_usage_and_is_priced_exactly(Fixture fixture)
    {
        var usage = fixture.Body.StartsWith('{') ? Whole(fixture) : (await RelayAsync(fixture, [Encoding.UTF8.GetBytes(fixture.Body)])).Usage;
        var price = PriceCatalogReader.BuiltIn().Find(fixture.Model, Day)!;

        Assert.Equal(fixture.Usage, usage);
        Assert.Equal(fixture.Cost, CostCalculator.Price(usage, price).Total);
    }

    /// <summary>The SSE fixtures only.</summary>
    public static TheoryData<Fixture> StreamFixtures()
    {
        var streams = new TheoryData<Fixture>();
        foreach (var row in Fixtures())
        {
            if (row is { } fixture && !fixture.Body.StartsWith('{'))
            {
                streams.Add(fixture);
            }
        }

        return streams;
    }

    [Theory]
    [MemberData(nameof(StreamFixtures))]
    public async Task Every_stream_fixture_gives_the_same_events_and_usage_at_every_split_point(Fixture fixture)
    {
        var bytes = Encoding.UTF8.GetBytes(fixture.Body);
        var whole = await RelayAsync(fixture, [bytes]);
        for (var split = 1; split < bytes.Length; split++)
        {
            var parts = await RelayAsync(fixture, [bytes[..split], bytes[split..]]);

            Assert.Equal(whole.Text, parts.Text);
            Assert.Equal(fixture.Usage, parts.Usage);
            Assert.Null(parts.Failure);
        }
    }

    private static Usage Whole(Fixture fixture)
    {
        using var document = JsonDocument.Parse(fixture.Body);
        return fixture.Format switch
        {
            "openai" => OpenAiUsageMapper.Map(document.RootElement.GetProperty("usage")),
            "anthropic" => AnthropicUsageMapper.Map(document.RootElement.GetProperty("usage")),
            _ => GeminiUsageMapper.Map(document.RootElement.GetProperty("usageMetadata")),
        };
    }

    private static async Task<(string Text, Usage Usage, ProviderFailure? Failure)> RelayAsync(Fixture fixture, IEnumerable<byte[]> writes)
    {
        var pipe = new Pipe();
        foreach (var write in writes)
        {
            await pipe.Writer.WriteAsync(write);
        }

        await pipe.Writer.CompleteAsync();
        IStreamInspector inspector = fixture.Format switch
        {
            "openai" => new OpenAiStreamInspector(clientWantsUsage: true),
            "anthropic" => new AnthropicStreamInspector(),
            _ => new GeminiChatStreamTranslator(fixture.Model, clientWantsUsage: true, 0),
        };
        var sink = new RecordingSink();
        var outcome = await SseRelay.RelayAsync(pipe.Reader, inspector, UpstreamHeaders.None, sink, CancellationToken.None, CancellationToken.None);
        return (string.Concat(sink.Events.Select(Encoding.UTF8.GetString)), outcome.Usage, outcome.Failure);
    }
}
