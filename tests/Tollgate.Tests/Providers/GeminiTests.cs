using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Tollgate.Metering;
using Tollgate.Providers;
using Tollgate.Providers.Gemini;
using Tollgate.Providers.Streaming;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Providers;

public sealed class GeminiTests
{
    private static readonly string[] Events =
    [
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Xin chào, \"}],\"role\":\"model\"},\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":1200,\"totalTokenCount\":1200},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\r\n\r\n",
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"thế giới 🌏\"}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":1200,\"candidatesTokenCount\":40,\"totalTokenCount\":1540,\"cachedContentTokenCount\":1024,\"thoughtsTokenCount\":300},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\r\n\r\n",
    ];

    [Fact]
    public void Thoughts_are_billed_as_output_and_cached_content_is_inside_the_prompt()
    {
        var usage = GeminiUsageMapper.Map(JsonDocument.Parse("""{"promptTokenCount":1200,"candidatesTokenCount":40,"cachedContentTokenCount":1024,"thoughtsTokenCount":300,"totalTokenCount":1540}""").RootElement);
        var flash = PriceCatalogReader.BuiltIn().Find("gemini-2.5-flash", new DateOnly(2026, 11, 24))!;

        Assert.Equal(new Usage(1200, 1024, null, 340, 300), usage);
        Assert.Equal((176 * 0.3m + 1024 * 0.03m + 40 * 2.5m + 300 * 2.5m) / 1_000_000m, CostCalculator.Price(usage, flash).Total);
    }

    [Fact]
    public void A_chat_request_becomes_generate_content()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var error = GeminiRequestTranslator.Translate(JsonDocument.Parse("""
            {"model":"g","max_tokens":64,"temperature":0.5,"stop":["END"],"messages":[
              {"role":"system","content":"Be brief."},
              {"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}}]},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"x\"}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"found"}],
             "tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]}
            """).RootElement, buffer);
        var request = JsonDocument.Parse(buffer.WrittenMemory).RootElement;

        Assert.Null(error);
        Assert.Equal("Be brief.", request.GetProperty("systemInstruction").GetProperty("parts")[0].GetProperty("text").GetString());
        var contents = request.GetProperty("contents").EnumerateArray().ToList();
        Assert.Equal(["user", "model", "user"], contents.Select(c => c.GetProperty("role").GetString()));
        Assert.Equal("image/jpeg", contents[0].GetProperty("parts")[1].GetProperty("inlineData").GetProperty("mimeType").GetString());
        Assert.Equal("x", contents[1].GetProperty("parts")[0].GetProperty("functionCall").GetProperty("args").GetProperty("q").GetString());
        Assert.Equal("lookup", contents[2].GetProperty("parts")[0].GetProperty("functionResponse").GetProperty("name").GetString());
        Assert.Equal((64, 0.5, "END"), (request.GetProperty("generationConfig").GetProperty("maxOutputTokens").GetInt32(), request.GetProperty("generationConfig").GetProperty("temperature").GetDouble(), request.GetProperty("generationConfig").GetProperty("stopSequences")[0].GetString()));
        Assert.Equal("lookup", request.GetProperty("tools")[0].GetProperty("functionDeclarations")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task A_stream_becomes_openai_chunks_ending_in_done_at_every_split_point()
    {
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Events));
        for (var split = 0; split < bytes.Length; split++)
        {
            var (chunks, outcome) = await RelayAsync(split == 0 ? [bytes] : [bytes[..split], bytes[split..]]);

            Assert.Equal("data: [DONE]", chunks[^1]);
            var json = chunks.Take(chunks.Count - 1).Select(c => JsonDocument.Parse(c["data: ".Length..]).RootElement).ToList();
            Assert.Equal("Xin chào, thế giới 🌏", string.Concat(json.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
                .Select(c => c.GetProperty("choices")[0].GetProperty("delta")).Select(d => d.TryGetProperty("content", out var t) ? t.GetString() : string.Empty)));
            Assert.Equal(340, json.Single(c => c.TryGetProperty("usage", out _)).GetProperty("usage").GetProperty("completion_tokens").GetInt32());
            Assert.Equal(new Usage(1200, 1024, null, 340, 300), outcome.Usage);
            Assert.Null(outcome.Failure);
        }
    }

    [Fact]
    public async Task A_stream_that_ends_without_a_finish_reason_was_cut_and_keeps_the_exact_prompt()
    {
        var (chunks, outcome) = await RelayAsync([Encoding.UTF8.GetBytes(Events[0])]);

        Assert.DoesNotContain("data: [DONE]", chunks);
        Assert.Equal(ProviderFailureKind.StreamCut, outcome.Failure?.Kind);
        Assert.Equal(1200, outcome.Usage.InputTokens);
        Assert.Null(outcome.Usage.OutputTokens);
    }

    private static async Task<(List<string> Chunks, StreamOutcome Outcome)> RelayAsync(IEnumerable<byte[]> writes)
    {
        var pipe = new Pipe();
        foreach (var write in writes)
        {
            await pipe.Writer.WriteAsync(write);
        }

        await pipe.Writer.CompleteAsync();
        var sink = new RecordingSink();
        var outcome = await SseRelay.RelayAsync(pipe.Reader, new GeminiChatStreamTranslator("gemini-2.5-flash", clientWantsUsage: true, 1764000000), UpstreamHeaders.None, sink, CancellationToken.None, CancellationToken.None);
        return ([.. sink.Events.Select(Encoding.UTF8.GetString).SelectMany(e => e.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))], outcome);
    }
}
