using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Providers;
using Tollgate.Providers.Anthropic;
using Tollgate.Providers.Streaming;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Providers;

public sealed class AnthropicStreamTests
{
    /// <summary>A streamed Messages answer in Anthropic's wire format, with a 7,200-token prompt-cache write.</summary>
    internal static readonly string[] Events =
    [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5-20250929\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":7200,\"cache_read_input_tokens\":0,\"cache_creation\":{\"ephemeral_5m_input_tokens\":7200,\"ephemeral_1h_input_tokens\":0},\"output_tokens\":1,\"service_tier\":\"standard\"}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: ping\ndata: {\"type\": \"ping\"}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Xin chào\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"! 👋 Tôi có thể giúp gì?\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ];

    private static readonly Usage Expected = new(7225, 0, 7200, 15, null) { CacheWrite1hTokens = 0 };

    [Fact]
    public void Input_tokens_exclude_the_cache_so_the_canonical_input_adds_reads_and_writes()
    {
        var usage = AnthropicUsageMapper.Map(JsonDocument.Parse("""
            {"input_tokens":12,"cache_creation_input_tokens":300,"cache_read_input_tokens":7200,
             "cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"output_tokens":50}
            """).RootElement);

        Assert.Equal(new Usage(7512, 7200, 300, 50, null) { CacheWrite1hTokens = 200 }, usage);
        Assert.Equal(12, usage.UncachedInputTokens);
    }

    [Fact]
    public void A_cached_system_prompt_costs_ten_percent_on_a_hit_and_125_percent_on_a_write()
    {
        var sonnet = PriceCatalogReader.BuiltIn().Find("claude-sonnet-4-5", new DateOnly(2026, 11, 24))!;

        var write = CostCalculator.Price(AnthropicUsageMapper.Map(JsonDocument.Parse("""{"input_tokens":0,"cache_creation_input_tokens":7200,"cache_read_input_tokens":0,"output_tokens":0}""").RootElement), sonnet);
        var hit = CostCalculator.Price(AnthropicUsageMapper.Map(JsonDocument.Parse("""{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":7200,"output_tokens":0}""").RootElement), sonnet);
        var hourWrite = CostCalculator.Price(AnthropicUsageMapper.Map(JsonDocument.Parse("""{"input_tokens":0,"cache_creation_input_tokens":7200,"cache_creation":{"ephemeral_1h_input_tokens":7200},"output_tokens":0}""").RootElement), sonnet);

        var full = 7200 * 3m / 1_000_000m;
        Assert.Equal(full * 1.25m, write.Total);
        Assert.Equal(full * 0.10m, hit.Total);
        Assert.Equal(full * 2m, hourWrite.Total);
    }

    [Fact]
    public async Task Every_split_point_gives_the_same_events_and_the_cumulative_usage()
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Events));
        for (var split = 0; split < bytes.Length; split++)
        {
            var (text, outcome, sink) = await RelayAsync(split == 0 ? [bytes] : [bytes[..split], bytes[split..]]);

            Assert.Equal(string.Concat(Events), text);
            Assert.Equal(Expected, outcome.Usage);
            Assert.Null(outcome.Failure);
            Assert.Equal(Events.Length - 1, sink.TrailerWrittenAfter);
        }
    }

    [Fact]
    public async Task A_stream_cut_before_message_delta_keeps_the_exact_input_and_leaves_the_output_to_estimate()
    {
        var (_, outcome, _) = await RelayAsync([Encoding.UTF8.GetBytes(string.Concat(Events.Take(4)))]);

        Assert.Equal(ProviderFailureKind.StreamCut, outcome.Failure?.Kind);
        Assert.Equal(7225, outcome.Usage.InputTokens);
        Assert.Null(outcome.Usage.OutputTokens);
        Assert.Equal("Xin chào".Length, outcome.OutputCharacters);
    }

    private static async Task<(string Text, StreamOutcome Outcome, RecordingSink Sink)> RelayAsync(IEnumerable<byte[]> writes)
    {
        var pipe = new Pipe();
        foreach (var write in writes)
        {
            await pipe.Writer.WriteAsync(write);
        }

        await pipe.Writer.CompleteAsync();
        var sink = new RecordingSink();
        var outcome = await SseRelay.RelayAsync(pipe.Reader, new AnthropicStreamInspector(), UpstreamHeaders.None, sink, CancellationToken.None, CancellationToken.None);
        return (string.Concat(sink.Events.Select(Encoding.UTF8.GetString)), outcome, sink);
    }
}
