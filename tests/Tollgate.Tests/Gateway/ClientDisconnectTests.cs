using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Tollgate.Ledger;
using Tollgate.Metering.Tokenization;
using Tollgate.Tests.Support;
using Xunit;

namespace Tollgate.Tests.Gateway;

/// <summary>
/// A client that aborts 1 s into a 2,000-token stream still leaves exactly one record, with its prompt billed in
/// full — closing the upstream by default, or reading on until the provider's usage with <c>on_client_disconnect: read_usage</c>.
/// </summary>
public sealed class ClientDisconnectTests : GatewayWithFakeUpstream
{
    private const int AnswerTokens = 2_000;

    protected override string Models(Uri upstream) =>
        TestGateway.Model("closes", "gpt-4o-mini", upstream) + TestGateway.Model("reads-on", "gpt-4o-mini", upstream, "    on_client_disconnect: read_usage");

    private static string Body(string alias) =>
        "{\"model\":\"" + alias + "\",\"stream\":true,\"messages\":[{\"role\":\"system\",\"content\":\"You write long essays.\"},{\"role\":\"user\",\"content\":\"Write about toll roads in Việt Nam.\"}]}";

    private static int PromptTokens(string alias) => (int)PromptTokenCounter.Count(JsonDocument.Parse(Body(alias)).RootElement, "gpt-4o-mini").Tokens;

    /// <summary>Starts a 2,000-token stream (one token per event, 1.25 ms apart: 2.5 s in all), reads for 1 s, aborts, and returns when it aborted.</summary>
    private async Task<Stopwatch> AbortAfterOneSecondAsync(string alias)
    {
        Upstream.ReplyText = string.Join(' ', Enumerable.Repeat("toll", AnswerTokens));
        Upstream.EventPace = TimeSpan.FromMilliseconds(1.25);
        Upstream.Usage = new(PromptTokens(alias), AnswerTokens);
        using var cancel = new CancellationTokenSource();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Body(alias), Encoding.UTF8, "application/json") };
        var reading = Stopwatch.StartNew();
        try
        {
            using var response = await Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            await using var body = await response.Content.ReadAsStreamAsync(cancel.Token);
            // On a loaded machine the headers may take longer than the second itself: abort at once then.
            cancel.CancelAfter(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (TimeSpan.FromSeconds(1) - reading.Elapsed).Ticks)));
            var buffer = new byte[4096];
            while (await body.ReadAsync(buffer, cancel.Token) > 0)
            {
            }

            Assert.Fail("the stream ended before the client aborted: make the fake's stream longer");
        }
        catch (OperationCanceledException)
        {
        }

        return Stopwatch.StartNew();
    }

    private async Task<UsageRecord> SingleRecordWithinAsync(TimeSpan limit, Stopwatch sinceAbort)
    {
        var records = await Gateway.RecordsAsync(1);
        Assert.True(sinceAbort.Elapsed < limit, $"the record took {sinceAbort.Elapsed.TotalSeconds:0.0} s");
        return Assert.Single(records);
    }

    [Fact]
    public async Task By_default_the_upstream_is_closed_and_the_record_bills_the_whole_prompt_and_the_streamed_output()
    {
        var sinceAbort = await AbortAfterOneSecondAsync("closes");

        var record = await SingleRecordWithinAsync(TimeSpan.FromSeconds(5), sinceAbort);

        Assert.Equal(RecordStatus.ClientCancelled, record.Status);
        Assert.Equal(PromptTokens("closes"), record.Usage.InputTokens);
        Assert.InRange(record.Usage.OutputTokens!.Value, 1, AnswerTokens - 1);
        Assert.True(record.Usage.Estimated);
        Assert.Equal(record.Usage.InputTokens * 0.15m / 1_000_000, record.Cost.Input);
        await Task.Delay(300);
        Assert.InRange(Upstream.EventsSent, 1, AnswerTokens - 1);
    }

    [Fact]
    public async Task With_read_usage_the_gateway_reads_on_and_records_the_providers_exact_usage()
    {
        var sinceAbort = await AbortAfterOneSecondAsync("reads-on");

        var record = await SingleRecordWithinAsync(TimeSpan.FromSeconds(5), sinceAbort);

        Assert.Equal(RecordStatus.ClientCancelled, record.Status);
        Assert.Equal((PromptTokens("reads-on"), AnswerTokens), (record.Usage.InputTokens, record.Usage.OutputTokens));
        Assert.False(record.Usage.Estimated);
        Assert.Equal((PromptTokens("reads-on") * 0.15m + AnswerTokens * 0.60m) / 1_000_000, record.Cost.Total);
    }

    [Fact]
    public async Task With_read_usage_a_client_that_stays_gets_the_whole_stream_as_usual()
    {
        Upstream.ReplyText = "short answer";
        var response = await Gateway.Client.PostAsync("/v1/chat/completions", new StringContent(Body("reads-on"), Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();

        Assert.EndsWith("data: [DONE]\n\n", text, StringComparison.Ordinal);
        Assert.Equal(RecordStatus.Ok, Assert.Single(await Gateway.RecordsAsync(1)).Status);
    }
}
