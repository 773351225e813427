using System.IO.Pipelines;
using System.Text;
using Tollgate.Metering;
using Tollgate.Providers;
using Tollgate.Providers.OpenAiCompatible;
using Tollgate.Providers.Streaming;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Providers;

public sealed class StreamRelayTests
{
    private const string Head = """{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":""";

    private static readonly string[] Events =
    [
        "data: " + Head + """[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}""" + "\n\n",
        "data: " + Head + """[{"index":0,"delta":{"content":"Xin chào, thế giới "},"finish_reason":null}],"usage":null}""" + "\n\n",
        ": keep-alive comment\n\n",
        "data: " + Head + """[{"index":0,"delta":{"content":"👋🏽 done"},"finish_reason":null}],"usage":null}""" + "\r\n\r\n",
        "data: " + Head + """[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}""" + "\n\n",
        "data: " + Head + """[],"usage":{"prompt_tokens":21,"completion_tokens":9,"total_tokens":30,"prompt_tokens_details":{"cached_tokens":16},"completion_tokens_details":{"reasoning_tokens":0}}}""" + "\n\n",
        "data: [DONE]\n\n",
    ];

    private static readonly Usage Expected = new(21, 16, null, 9, 0);

    [Fact]
    public async Task Every_split_point_gives_the_same_events_and_usage()
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Events));
        var whole = await RelayAsync([bytes], clientWantsUsage: true);
        Assert.Equal(string.Concat(Events), whole.Text);
        Assert.Equal(Expected, whole.Outcome.Usage);
        Assert.Null(whole.Outcome.Failure);

        for (var split = 1; split < bytes.Length; split++)
        {
            var result = await RelayAsync([bytes[..split], bytes[split..]], clientWantsUsage: true);
            Assert.Equal(whole.Text, result.Text);
            Assert.Equal(Expected, result.Outcome.Usage);
            Assert.Null(result.Outcome.Failure);
        }
    }

    [Fact]
    public async Task Byte_by_byte_delivery_gives_the_same_events_and_usage()
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Events));

        var result = await RelayAsync([.. bytes.Select(b => new[] { b })], clientWantsUsage: false);

        Assert.Equal(Expected, result.Outcome.Usage);
        Assert.Equal(string.Concat(Events.Where((_, i) => i != 5)), result.Text);
    }

    [Fact]
    public async Task The_usage_chunk_is_hidden_from_a_client_that_did_not_ask_and_the_trailer_comes_before_done()
    {
        var result = await RelayAsync([Encoding.UTF8.GetBytes(string.Concat(Events))], clientWantsUsage: false);

        Assert.DoesNotContain("\"prompt_tokens\"", result.Text, StringComparison.Ordinal);
        Assert.Equal(Expected, result.Outcome.Usage);
        Assert.Equal(Events.Length - 1, result.Sink.Events.Count);
        Assert.Equal(Events.Length - 2, result.Sink.TrailerWrittenAfter);
    }

    [Fact]
    public async Task A_stream_cut_before_usage_and_done_is_reported_with_what_was_generated()
    {
        var cut = Encoding.UTF8.GetBytes(string.Concat(Events.Take(3)) + Events[3][..40]);

        var result = await RelayAsync([cut], clientWantsUsage: false);

        Assert.Equal(ProviderFailureKind.StreamCut, result.Outcome.Failure?.Kind);
        Assert.False(result.Outcome.Usage.IsReported);
        Assert.Equal(Encoding.UTF8.GetByteCount("Xin chào, thế giới "), result.Outcome.OutputCharacters);
    }

    [Fact]
    public void Multi_line_data_is_joined_as_the_sse_specification_says()
    {
        byte[]? scratch = null;
        var data = SseEventFramer.Data("event: x\ndata: {\"a\":\ndata: 1}\n\n"u8, ref scratch);

        Assert.Equal("{\"a\":\n1}", Encoding.UTF8.GetString(data));
    }

    private static async Task<(string Text, StreamOutcome Outcome, RecordingSink Sink)> RelayAsync(IEnumerable<byte[]> writes, bool clientWantsUsage)
    {
        var pipe = new Pipe();
        foreach (var write in writes)
        {
            await pipe.Writer.WriteAsync(write);
        }

        await pipe.Writer.CompleteAsync();
        var sink = new RecordingSink();
        var outcome = await SseRelay.RelayAsync(pipe.Reader, new OpenAiStreamInspector(clientWantsUsage), UpstreamHeaders.None, sink, CancellationToken.None, CancellationToken.None);
        return (string.Concat(sink.Events.Select(Encoding.UTF8.GetString)), outcome, sink);
    }
}
