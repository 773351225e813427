#pragma warning disable OPENAI001 // the SDK marks its Responses client experimental
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI.Responses;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>
/// The Responses API on Claude and Gemini aliases: translated to the provider's format through the chat translation,
/// answered in the Responses format — whole (the official OpenAI SDK reads it), streamed as the Responses event
/// sequence ending in <c>response.completed</c> with the recorded usage, function tools both ways — and metered like
/// any call; what has no equivalent (built-in tools, <c>previous_response_id</c>) is a clear 400.
/// </summary>
public sealed class ResponsesOverChatTests : IAsyncLifetime
{
    private FakeAnthropicUpstream _anthropic = null!;
    private FakeGeminiUpstream _gemini = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _anthropic = await FakeAnthropicUpstream.StartAsync();
        _gemini = await FakeGeminiUpstream.StartAsync();
        _gateway = await TestGateway.StartAsync($"""
            models:
              - alias: claude
                provider: anthropic
                model: claude-haiku-4-5
                base_url: {_anthropic.BaseUrl}
                api_key: sk-ant-upstream
              - alias: gemini
                provider: gemini
                model: gemini-2.5-flash
                base_url: {_gemini.BaseUrl}
                api_key: goog-key
            """);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _gemini.DisposeAsync();
    }

    private ResponsesClient Sdk() =>
        new OpenAI.OpenAIClient(new System.ClientModel.ApiKeyCredential(TestGateway.MasterKey), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(_gateway.BaseUrl, "/v1") }).GetResponsesClient();

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string body)
    {
        using var response = await _gateway.Client.PostAsync("/v1/responses", new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_claude_alias_answers_the_official_sdk_in_the_responses_format_and_is_priced_exactly()
    {
        _anthropic.Usage = new FakeAnthropicUsage(InputTokens: 40, OutputTokens: 12, CacheReadTokens: 100);

        var response = (await Sdk().CreateResponseAsync("claude", "Chào bạn")).Value;

        Assert.Equal(_anthropic.ReplyText, response.GetOutputText());
        Assert.Equal((140, 12), (response.Usage.InputTokenCount, response.Usage.OutputTokenCount));
        var sent = Assert.Single(_anthropic.Received).Json;
        Assert.Equal("claude-haiku-4-5", sent.GetProperty("model").GetString());
        var content = sent.GetProperty("messages")[0].GetProperty("content");
        Assert.Equal("Chào bạn", content.ValueKind == JsonValueKind.String ? content.GetString() : content[0].GetProperty("text").GetString());
        var record = Assert.Single(await _gateway.RecordsAsync(1));
        Assert.Equal(("responses", "anthropic", RecordStatus.Ok), (record.Endpoint, record.Provider, record.Status));
        Assert.Equal((140L, 100L, 12L), (record.Usage.InputTokens!.Value, record.Usage.CachedInputTokens!.Value, record.Usage.OutputTokens!.Value));
        // claude-haiku-4-5: $1 / M input, $0.10 / M cache read, $5 / M output.
        Assert.Equal((40 * 1m + 100 * 0.1m + 12 * 5m) / 1_000_000m, record.Cost.Total);
    }

    [Fact]
    public async Task A_streamed_claude_answer_is_the_responses_event_sequence_ending_with_the_recorded_usage()
    {
        _anthropic.Usage = new FakeAnthropicUsage(InputTokens: 30, OutputTokens: 9);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent("""{"model":"claude","instructions":"Trả lời ngắn.","input":"Kể chuyện","stream":true,"max_output_tokens":100}""", Encoding.UTF8, "application/json"),
        };
        using var response = await _gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(e => e.StartsWith("event: ", StringComparison.Ordinal))
            .Select(e => (Name: e.Split('\n')[0][7..], Data: JsonDocument.Parse(e.Split('\n')[1][6..]).RootElement)).ToList();
        Assert.Equal(
            ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
             "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"],
            events.Select(e => e.Name));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data.GetProperty("sequence_number").GetInt32()));
        Assert.Equal(_anthropic.ReplyText, string.Concat(events.Where(e => e.Name == "response.output_text.delta").Select(e => e.Data.GetProperty("delta").GetString())));
        var completed = events[^1].Data.GetProperty("response");
        Assert.Equal("completed", completed.GetProperty("status").GetString());
        Assert.Equal(_anthropic.ReplyText, completed.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        var record = Assert.Single(await _gateway.RecordsAsync(1));
        Assert.True(record.Stream);
        Assert.Equal((record.Usage.InputTokens, record.Usage.OutputTokens), (completed.GetProperty("usage").GetProperty("input_tokens").GetInt64(), completed.GetProperty("usage").GetProperty("output_tokens").GetInt64()));
        var sent = Assert.Single(_anthropic.Received).Json;
        Assert.Equal(("Trả lời ngắn.", 100), (sent.GetProperty("system").ValueKind == JsonValueKind.String ? sent.GetProperty("system").GetString() : sent.GetProperty("system")[0].GetProperty("text").GetString(), sent.GetProperty("max_tokens").GetInt32()));
    }

    [Fact]
    public async Task The_official_sdk_streams_a_claude_answer()
    {
        var text = new StringBuilder();
        await foreach (var update in await Sdk().CreateResponseStreamingAsync("claude", "Xin chào"))
        {
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }
        }

        Assert.Equal(_anthropic.ReplyText, text.ToString());
    }

    [Fact]
    public async Task Function_tools_go_to_claude_as_tools_and_come_back_as_function_calls_and_their_outputs_as_tool_results()
    {
        _anthropic.ToolUse = ("get_weather", """{"city":"Hà Nội"}""");

        var (status, body) = await PostAsync("""
            {"model":"claude","input":"Thời tiết Hà Nội?","tools":[{"type":"function","name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}],"tool_choice":"auto"}
            """);

        Assert.Equal(HttpStatusCode.OK, status);
        var call = JsonDocument.Parse(body).RootElement.GetProperty("output").EnumerateArray().Single(i => i.GetProperty("type").GetString() == "function_call");
        Assert.Equal(("get_weather", "toolu_fake1"), (call.GetProperty("name").GetString(), call.GetProperty("call_id").GetString()));
        Assert.Equal("Hà Nội", JsonDocument.Parse(call.GetProperty("arguments").GetString()!).RootElement.GetProperty("city").GetString());
        Assert.Equal("get_weather", _anthropic.Received.First().Json.GetProperty("tools")[0].GetProperty("name").GetString());

        _anthropic.ToolUse = null;
        (status, _) = await PostAsync("""
            {"model":"claude","input":[{"role":"user","content":"Thời tiết Hà Nội?"},{"type":"function_call","call_id":"toolu_fake1","name":"get_weather","arguments":"{\"city\":\"Hà Nội\"}"},{"type":"function_call_output","call_id":"toolu_fake1","output":"31°C, nắng"}]}
            """);

        Assert.Equal(HttpStatusCode.OK, status);
        var messages = _anthropic.Received.Last().Json.GetProperty("messages").GetRawText();
        Assert.Contains("\"tool_use\"", messages, StringComparison.Ordinal);
        Assert.Contains("\"tool_result\"", messages, StringComparison.Ordinal);
        Assert.Contains("31°C, nắng", messages, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gemini_alias_answers_in_the_responses_format()
    {
        var (status, body) = await PostAsync("""{"model":"gemini","input":[{"role":"user","content":[{"type":"input_text","text":"Xin chào"}]}]}""");

        Assert.Equal(HttpStatusCode.OK, status);
        var response = JsonDocument.Parse(body).RootElement;
        Assert.Equal(_gemini.ReplyText, response.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());
        var record = Assert.Single(await _gateway.RecordsAsync(1));
        Assert.Equal(("responses", "gemini"), (record.Endpoint, record.Provider));
        Assert.Equal(record.Usage.OutputTokens, response.GetProperty("usage").GetProperty("output_tokens").GetInt64());
    }

    [Theory]
    [InlineData("""{"model":"claude","input":"Hi","tools":[{"type":"web_search"}]}""", "web_search")]
    [InlineData("""{"model":"claude","input":"Hi","previous_response_id":"resp_1"}""", "previous_response_id")]
    [InlineData("""{"model":"claude","input":[{"type":"item_reference","id":"msg_1"}]}""", "item_reference")]
    [InlineData("""{"model":"gemini","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}""", "input_file")]
    public async Task What_has_no_equivalent_on_the_provider_is_a_clear_400_and_nothing_is_sent(string request, string named)
    {
        var (status, body) = await PostAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(named, JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_anthropic.Received);
        Assert.Empty(_gemini.Received);
    }
}
