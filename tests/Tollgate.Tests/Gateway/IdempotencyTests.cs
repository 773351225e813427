using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Tollgate.FakeProviders;
using Tollgate.Ledger;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>
/// A client that retries with the same <c>Idempotency-Key</c> gets the answer it already paid for, once, and is
/// never charged twice; a key reused for another request is a conflict.
/// </summary>
public sealed class IdempotencyTests : GatewayWithFakeUpstream
{
    private const string Body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    private const string StreamBody = "{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    protected override string Settings => "retries:\n  max_retries: 0\n";

    private async Task<HttpResponseMessage> PostAsync(string body, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        return await Gateway.Client.SendAsync(request);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : string.Empty;

    private static string ErrorCode(string json) => JsonDocument.Parse(json).RootElement.GetProperty("error").GetProperty("code").GetString()!;

    [Fact]
    public async Task A_retried_request_is_answered_from_the_kept_response_without_a_provider_call_or_a_second_charge()
    {
        var first = await PostAsync(Body, "order-42");
        var firstBody = await first.Content.ReadAsStringAsync();
        var second = await PostAsync(Body, "order-42");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(firstBody, await second.Content.ReadAsStringAsync());
        Assert.Equal("true", Header(second, "Idempotent-Replayed"));
        Assert.Equal(Header(first, "X-Request-ID"), Header(second, "X-Tollgate-Replay-Of"));
        Assert.Equal("0", Header(second, "X-Tollgate-Cost-USD"));
        Assert.Equal(Header(first, "X-Tollgate-Model"), Header(second, "X-Tollgate-Model"));
        Assert.Equal("12", Header(second, "openai-processing-ms"));
        Assert.Single(Upstream.Received);
        var record = Assert.Single(await Gateway.RecordsAsync(1));
        Assert.Equal(Header(first, "X-Request-ID"), record.Id);
    }

    [Fact]
    public async Task A_retried_stream_replays_every_event_through_the_official_sdk_and_is_charged_once()
    {
        Upstream.ReplyText = "Một câu trả lời được phát trực tiếp, từng phần một.";
        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(TestGateway.MasterKey), WithIdempotencyKey("stream-7"));
        string[] messages = ["hi"];

        async Task<string> ReadStreamAsync()
        {
            var text = new StringBuilder();
            await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage(messages[0])]))
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }

            return text.ToString();
        }

        var first = await ReadStreamAsync();
        var second = await ReadStreamAsync();

        Assert.Equal(Upstream.ReplyText, first);
        Assert.Equal(first, second);
        Assert.Single(Upstream.Received);
        Assert.Single(await Gateway.RecordsAsync(1));
    }

    [Fact]
    public async Task A_replayed_stream_is_the_events_the_client_first_received_without_the_cost_comment()
    {
        var first = await (await PostAsync(StreamBody, "s-1")).Content.ReadAsStringAsync();
        var replay = await PostAsync(StreamBody, "s-1");

        Assert.Equal("text/event-stream", replay.Content.Headers.ContentType?.MediaType);
        var replayed = await replay.Content.ReadAsStringAsync();
        Assert.Contains(": tollgate cost_usd=", first, StringComparison.Ordinal);
        Assert.DoesNotContain(": tollgate cost_usd=", replayed, StringComparison.Ordinal);
        Assert.Equal(RemoveComments(first), replayed);
        Assert.EndsWith("data: [DONE]\n\n", replayed, StringComparison.Ordinal);
        Assert.Single(Upstream.Received);
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_a_409_and_calls_no_provider()
    {
        await PostAsync(Body, "k-1");

        var conflict = await PostAsync(Body.Replace("hi", "hello", StringComparison.Ordinal), "k-1");

        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal("idempotency_key_reused", ErrorCode(await conflict.Content.ReadAsStringAsync()));
        Assert.Single(Upstream.Received);
        Assert.Single(await Gateway.RecordsAsync(1));
    }

    [Fact]
    public async Task A_second_request_while_the_first_runs_is_a_409_with_retry_after_and_then_gets_the_answer()
    {
        Upstream.Fault = FakeFault.SlowFirstByte;
        Upstream.FirstByteDelay = TimeSpan.FromMilliseconds(800);
        var running = PostAsync(Body, "slow-1");
        await WaitUntilAsync(() => Upstream.Received.Count == 1);

        var meanwhile = await PostAsync(Body, "slow-1");
        var first = await running;
        var after = await PostAsync(Body, "slow-1");

        Assert.Equal(HttpStatusCode.Conflict, meanwhile.StatusCode);
        Assert.Equal("idempotency_key_in_use", ErrorCode(await meanwhile.Content.ReadAsStringAsync()));
        Assert.Equal(TimeSpan.FromSeconds(1), meanwhile.Headers.RetryAfter?.Delta);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await after.Content.ReadAsStringAsync());
        Assert.Single(Upstream.Received);
    }

    [Fact]
    public async Task A_failed_answer_is_not_kept_so_a_retry_with_the_same_key_reaches_the_provider()
    {
        Upstream.ScriptedFaults.Enqueue(FakeFault.ErrorStatus);

        var failed = await PostAsync(Body, "retry-me");
        var retried = await PostAsync(Body, "retry-me");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(string.Empty, Header(retried, "Idempotent-Replayed"));
        Assert.Equal(2, Upstream.Received.Count);
        var records = await Gateway.RecordsAsync(2);
        Assert.Equal([RecordStatus.Ok, RecordStatus.UpstreamError], records.Select(r => r.Status).Order());
    }

    [Fact]
    public async Task A_stream_the_provider_cut_is_not_kept()
    {
        Upstream.ScriptedFaults.Enqueue(FakeFault.CutStream);

        var cut = await (await PostAsync(StreamBody, "cut-1")).Content.ReadAsStringAsync();
        var retried = await PostAsync(StreamBody, "cut-1");

        Assert.Contains("\"error\"", cut, StringComparison.Ordinal);
        Assert.Equal(string.Empty, Header(retried, "Idempotent-Replayed"));
        Assert.EndsWith("data: [DONE]\n\n", await retried.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(2, Upstream.Received.Count);
    }

    [Fact]
    public async Task Requests_without_a_key_are_never_replayed()
    {
        await PostAsync(Body, null);
        await PostAsync(Body, null);

        Assert.Equal(2, Upstream.Received.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("tab\tinside")]
    public async Task A_malformed_key_is_a_400_before_any_provider_call(string key)
    {
        var response = await PostAsync(Body, key);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_idempotency_key", ErrorCode(await response.Content.ReadAsStringAsync()));
        Assert.Empty(Upstream.Received);
    }

    [Fact]
    public async Task A_key_longer_than_255_characters_is_refused()
    {
        var response = await PostAsync(Body, new string('k', 256));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(Upstream.Received);
    }

    private static string RemoveComments(string sse) =>
        string.Concat(sse.Split("\n\n").Where(e => e.Length > 0 && !e.StartsWith(':')).Select(e => e + "\n\n"));

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
    }

    private OpenAIClientOptions WithIdempotencyKey(string key)
    {
        var options = new OpenAIClientOptions { Endpoint = new Uri(Gateway.BaseUrl, "/v1"), RetryPolicy = new ClientRetryPolicy(0) };
        options.AddPolicy(new IdempotencyKeyPolicy(key), PipelinePosition.PerCall);
        return options;
    }

    /// <summary>Sends an <c>Idempotency-Key</c> on every call, as an application's own pipeline policy would.</summary>
    private sealed class IdempotencyKeyPolicy(string key) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Set("Idempotency-Key", key);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            message.Request.Headers.Set("Idempotency-Key", key);
            return ProcessNextAsync(message, pipeline, currentIndex);
        }
    }
}
